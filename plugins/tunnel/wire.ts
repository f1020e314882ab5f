/** @module tunnel wire format, shared by the plugin and the agent: JSON control frames and binary body frames, parsed strictly. */

/** The websocket subprotocol name. */
export const PROTOCOL = 'tunnel';
export const WIRE_VERSION = 1;

/**
 * Body bytes travel in BINARY frames with a 5-byte header: byte 0 is the
 * frame kind (1 = body bytes, the only kind so far), bytes 1-4 the stream id
 * (uint32 big-endian), the rest is payload of at most MAX_CHUNK bytes. The
 * direction says whose body it is: public → private, the request's; private
 * → public, the response's. Everything else is one JSON object per TEXT frame.
 */
export const DATA_KIND = 1;
export const DATA_HEADER = 5;
export const MAX_CHUNK = 32 * 1024;

/** Node ids are DNS labels: safe in a URL path segment, in logs, in a file of tokens. */
export const NODE_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const OFFERS = ['http', 'messages'] as const;
export type Offer = (typeof OFFERS)[number];

export type HeaderPairs = readonly (readonly [string, string])[];

// ---- the handshake (the same JSON over a websocket and over HTTP) ---------

export interface Hello {
  readonly type: 'hello';
  readonly v: number;
  readonly id: string;
  readonly token: string;
  /** What the node offers; unknown names are ignored (a newer agent may offer more). */
  readonly offers: readonly string[];
  /** Over HTTP: where the node takes messages (POSTed JSON). */
  readonly url?: string;
}

export interface Welcome {
  readonly type: 'welcome';
  readonly v: typeof WIRE_VERSION;
  readonly id: string;
  readonly offers: readonly Offer[];
  /** Send a ping at least this often; silent for three times this, the tunnel is closed. */
  readonly heartbeatSecs: number;
  /** Body bytes one stream may have in flight, unacknowledged by credit frames, per direction. */
  readonly window: number;
  /** Messages one node may have sent and not yet had answered (ack or nack). */
  readonly messageWindow: number;
  readonly maxMessageBytes: number;
}

export const REFUSAL_CODES = ['bad-hello', 'bad-version', 'bad-credentials'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];
export interface Refused {
  readonly type: 'refused';
  readonly code: RefusalCode;
  readonly message: string;
}

// ---- after the welcome ------------------------------------------------------

export const NACK_CODES = ['unknown-node', 'not-connected', 'not-accepted', 'too-big', 'busy', 'delivery-failed', 'disconnected'] as const;
/** Why a message was not delivered; `disconnected` is the agent's own: its tunnel dropped before the answer came. */
export type NackCode = (typeof NACK_CODES)[number];

/** Private node → public node. */
export type AgentFrame =
  | { readonly type: 'ping' }
  | { readonly type: 'head'; readonly id: number; readonly status: number; readonly headers: HeaderPairs }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'fail'; readonly id: number; readonly status: 502 | 504; readonly message: string }
  | { readonly type: 'credit'; readonly id: number; readonly bytes: number }
  | { readonly type: 'msg'; readonly to: string; readonly seq: number; readonly body: unknown };

/** Public node → private node. */
export type ServerFrame =
  | Welcome
  | Refused
  | { readonly type: 'pong' }
  | { readonly type: 'req'; readonly id: number; readonly method: string; readonly path: string; readonly headers: HeaderPairs; readonly body: boolean }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'cancel'; readonly id: number; readonly reason: string }
  | { readonly type: 'credit'; readonly id: number; readonly bytes: number }
  | { readonly type: 'msg'; readonly from: string; readonly body: unknown }
  | { readonly type: 'ack'; readonly seq: number }
  | { readonly type: 'nack'; readonly seq: number; readonly code: NackCode; readonly message: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

// ---- binary body frames ------------------------------------------------------

export function encodeData(stream: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(DATA_HEADER + payload.byteLength);
  frame[0] = DATA_KIND;
  frame.writeUInt32BE(stream, 1);
  frame.set(payload, DATA_HEADER);
  return frame;
}

export function decodeData(frame: Buffer): Parsed<{ stream: number; payload: Buffer }> {
  if (frame.length < DATA_HEADER) return { ok: false, error: 'binary frame shorter than its header' };
  if (frame[0] !== DATA_KIND) return { ok: false, error: `unknown binary frame kind ${frame[0]}` };
  if (frame.length - DATA_HEADER > MAX_CHUNK) return { ok: false, error: `body frame over ${MAX_CHUNK} bytes` };
  return { ok: true, value: { stream: frame.readUInt32BE(1), payload: frame.subarray(DATA_HEADER) } };
}

/** Cuts a chunk into payloads of at most MAX_CHUNK bytes, without copying. */
export function* slices(chunk: Buffer): Generator<Buffer> {
  for (let i = 0; i < chunk.length; i += MAX_CHUNK) yield chunk.subarray(i, i + MAX_CHUNK);
}

// ---- JSON control frames -------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStreamId = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 0xffffffff;
const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
const isPositive = (x: unknown): x is number => isCount(x) && x > 0;
const oneOf = <T extends string>(list: readonly T[], x: unknown): x is T => (list as readonly unknown[]).includes(x);

function isHeaderPairs(x: unknown): x is HeaderPairs {
  return Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string');
}

/** A frame's JSON text as an object with a string `type`, or what is wrong with it. */
export function readObject(text: string): Parsed<Obj & { type: string }> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (!isObj(v) || typeof v.type !== 'string') return { ok: false, error: 'a frame is a JSON object with a string "type"' };
  return { ok: true, value: v as Obj & { type: string } };
}

/** The hello's shape only; whether its id and token are good is the handshake's business. */
export function parseHello(o: Obj): Parsed<Hello> {
  if (o.type !== 'hello') return { ok: false, error: 'the first frame must be {"type": "hello", ...}' };
  if (!Number.isInteger(o.v)) return { ok: false, error: '"v" must be the wire version, an integer' };
  if (typeof o.id !== 'string' || typeof o.token !== 'string') return { ok: false, error: '"id" and "token" must be strings' };
  if (o.offers !== undefined && !(Array.isArray(o.offers) && o.offers.every((x) => typeof x === 'string'))) return { ok: false, error: '"offers" must be a list of strings' };
  if (o.url !== undefined && typeof o.url !== 'string') return { ok: false, error: '"url" must be a string' };
  const hello: Hello = { type: 'hello', v: o.v as number, id: o.id, token: o.token, offers: (o.offers as string[] | undefined) ?? [], ...(o.url === undefined ? {} : { url: o.url as string }) };
  return { ok: true, value: hello };
}

const bad = (type: string, what: string): Parsed<never> => ({ ok: false, error: `"${type}" frame: ${what}` });

export function parseAgentFrame(text: string): Parsed<AgentFrame> {
  const r = readObject(text);
  if (!r.ok) return r;
  const o = r.value;
  switch (o.type) {
    case 'ping':
      return { ok: true, value: { type: 'ping' } };
    case 'head':
      if (!isStreamId(o.id)) return bad(o.type, '"id" must be a stream id');
      if (!Number.isInteger(o.status) || (o.status as number) < 200 || (o.status as number) > 599) return bad(o.type, '"status" must be a final HTTP status (200-599)');
      if (!isHeaderPairs(o.headers)) return bad(o.type, '"headers" must be a list of [name, value] string pairs');
      return { ok: true, value: { type: 'head', id: o.id, status: o.status as number, headers: o.headers } };
    case 'end':
      return isStreamId(o.id) ? { ok: true, value: { type: 'end', id: o.id } } : bad(o.type, '"id" must be a stream id');
    case 'fail':
      if (!isStreamId(o.id)) return bad(o.type, '"id" must be a stream id');
      if (o.status !== 502 && o.status !== 504) return bad(o.type, '"status" must be 502 or 504');
      return { ok: true, value: { type: 'fail', id: o.id, status: o.status, message: typeof o.message === 'string' ? o.message : '' } };
    case 'credit':
      if (!isStreamId(o.id) || !isCount(o.bytes)) return bad(o.type, '"id" must be a stream id and "bytes" a count');
      return { ok: true, value: { type: 'credit', id: o.id, bytes: o.bytes } };
    case 'msg':
      if (typeof o.to !== 'string' || !isCount(o.seq) || !('body' in o)) return bad(o.type, 'needs "to" (a node id), "seq" (a count) and "body"');
      return { ok: true, value: { type: 'msg', to: o.to, seq: o.seq, body: o.body } };
    default:
      return { ok: false, error: `unknown frame type "${o.type}"` };
  }
}

export function parseServerFrame(text: string): Parsed<ServerFrame> {
  const r = readObject(text);
  if (!r.ok) return r;
  const o = r.value;
  switch (o.type) {
    case 'welcome': {
      const { id, offers, heartbeatSecs, window, messageWindow, maxMessageBytes } = o;
      if (typeof id !== 'string' || !Array.isArray(offers) || !isPositive(heartbeatSecs) || !isPositive(window) || !isPositive(messageWindow) || !isPositive(maxMessageBytes)) {
        return bad(o.type, 'needs "id", "offers" and positive "heartbeatSecs", "window", "messageWindow", "maxMessageBytes"');
      }
      const known = offers.filter((x): x is Offer => oneOf(OFFERS, x));
      return { ok: true, value: { type: 'welcome', v: WIRE_VERSION, id, offers: known, heartbeatSecs, window, messageWindow, maxMessageBytes } };
    }
    case 'refused':
      if (!oneOf(REFUSAL_CODES, o.code)) return bad(o.type, `unknown refusal code ${JSON.stringify(o.code)}`);
      return { ok: true, value: { type: 'refused', code: o.code, message: String(o.message ?? '') } };
    case 'pong':
      return { ok: true, value: { type: 'pong' } };
    case 'req':
      if (!isStreamId(o.id) || typeof o.method !== 'string' || typeof o.path !== 'string' || !o.path.startsWith('/') || !isHeaderPairs(o.headers)) {
        return bad(o.type, 'needs "id", "method", "path" (absolute) and "headers" pairs');
      }
      return { ok: true, value: { type: 'req', id: o.id, method: o.method, path: o.path, headers: o.headers, body: o.body === true } };
    case 'end':
      return isStreamId(o.id) ? { ok: true, value: { type: 'end', id: o.id } } : bad(o.type, '"id" must be a stream id');
    case 'cancel':
      return isStreamId(o.id) ? { ok: true, value: { type: 'cancel', id: o.id, reason: String(o.reason ?? '') } } : bad(o.type, '"id" must be a stream id');
    case 'credit':
      if (!isStreamId(o.id) || !isCount(o.bytes)) return bad(o.type, '"id" must be a stream id and "bytes" a count');
      return { ok: true, value: { type: 'credit', id: o.id, bytes: o.bytes } };
    case 'msg':
      if (typeof o.from !== 'string' || !('body' in o)) return bad(o.type, 'needs "from" and "body"');
      return { ok: true, value: { type: 'msg', from: o.from, body: o.body } };
    case 'ack':
      return isCount(o.seq) ? { ok: true, value: { type: 'ack', seq: o.seq } } : bad(o.type, '"seq" must be a count');
    case 'nack':
      if (!isCount(o.seq) || !oneOf(NACK_CODES, o.code)) return bad(o.type, '"seq" must be a count and "code" a known code');
      return { ok: true, value: { type: 'nack', seq: o.seq, code: o.code, message: String(o.message ?? '') } };
    default:
      return { ok: false, error: `unknown frame type "${o.type}"` };
  }
}

/** Serialises a frame; the types make sure only real frames go out. */
export const frameText = (f: AgentFrame | ServerFrame | Hello): string => JSON.stringify(f);
