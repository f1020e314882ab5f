/** @module tunnel wire format, shared by the plugin and the agent: JSON control frames and binary body frames, parsed strictly. */

/** The websocket subprotocol name. */
export const PROTOCOL = 'tunnel';
/** Version 2 added forwarded websockets (the `websocket` offer, ws* frames, binary kind 2). */
export const WIRE_VERSION = 2;
/** What this public node welcomes: a version 1 agent keeps serving HTTP and messages, without websockets. */
export const WIRE_VERSIONS: readonly number[] = [1, 2];

/**
 * Bytes travel in BINARY frames: byte 0 is the frame kind, bytes 1-4 the
 * stream id (uint32 big-endian). Kind 1 is body bytes (the rest of the frame,
 * at most MAX_CHUNK): public → private the request's, private → public the
 * response's. Kind 2 (v2) is a piece of a forwarded websocket message: byte 5
 * holds flags (WS_FIN: the message's last piece; WS_BINARY: a binary
 * message, else text, on every piece), then at most MAX_CHUNK bytes.
 * Everything else is one JSON object per TEXT frame.
 */
export const DATA_KIND = 1;
export const DATA_HEADER = 5;
export const WS_KIND = 2;
export const WS_HEADER = 6;
export const WS_FIN = 1;
export const WS_BINARY = 2;
export const MAX_CHUNK = 32 * 1024;

/** Node ids are DNS labels: safe in a URL path segment, in logs, in a file of tokens. */
export const NODE_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `websocket` (v2): upgrades under /nodes/<id>/ are relayed to the node's target. */
export const OFFERS = ['http', 'messages', 'websocket'] as const;
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
  /** The hello's version: the one both ends speak. */
  readonly v: number;
  readonly id: string;
  readonly offers: readonly Offer[];
  /** Send a ping at least this often; silent for three times this, the tunnel is closed. */
  readonly heartbeatSecs: number;
  /** Body bytes one stream may have in flight, unacknowledged by credit frames, per direction. */
  readonly window: number;
  /** Messages one node may have sent and not yet had answered (ack or nack). */
  readonly messageWindow: number;
  readonly maxMessageBytes: number;
  /** v2: the largest forwarded websocket message, either way. */
  readonly wsMaxMessage?: number;
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
  | { readonly type: 'msg'; readonly to: string; readonly seq: number; readonly body: unknown }
  | { readonly type: 'wsaccept'; readonly id: number; readonly protocol: string }
  | { readonly type: 'wsrefuse'; readonly id: number; readonly status: number; readonly message: string }
  | WsClose;

/** Either way: that side of forwarded websocket `id` closed (1005: without a code), after its last piece. */
export interface WsClose {
  readonly type: 'wsclose';
  readonly id: number;
  readonly code: number;
  readonly reason: string;
}

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
  | { readonly type: 'wsopen'; readonly id: number; readonly path: string; readonly headers: HeaderPairs; readonly protocols: readonly string[] }
  | WsClose
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

export function encodePiece(stream: number, payload: Uint8Array, fin: boolean, binary: boolean): Buffer {
  const frame = Buffer.allocUnsafe(WS_HEADER + payload.byteLength);
  frame[0] = WS_KIND;
  frame.writeUInt32BE(stream, 1);
  frame[5] = (fin ? WS_FIN : 0) | (binary ? WS_BINARY : 0);
  frame.set(payload, WS_HEADER);
  return frame;
}

export type BinaryFrame =
  | { readonly kind: 'body'; readonly stream: number; readonly payload: Buffer }
  | { readonly kind: 'ws'; readonly stream: number; readonly payload: Buffer; readonly fin: boolean; readonly binary: boolean };

export function decodeBinary(frame: Buffer): Parsed<BinaryFrame> {
  const header = frame[0] === WS_KIND ? WS_HEADER : DATA_HEADER;
  if (frame.length < header) return { ok: false, error: 'binary frame shorter than its header' };
  if (frame[0] !== DATA_KIND && frame[0] !== WS_KIND) return { ok: false, error: `unknown binary frame kind ${frame[0]}` };
  if (frame.length - header > MAX_CHUNK) return { ok: false, error: `binary frame over ${MAX_CHUNK} bytes of payload` };
  const stream = frame.readUInt32BE(1);
  const payload = frame.subarray(header);
  if (frame[0] === DATA_KIND) return { ok: true, value: { kind: 'body', stream, payload } };
  const flags = frame[5] ?? 0;
  if ((flags & ~(WS_FIN | WS_BINARY)) !== 0) return { ok: false, error: `unknown websocket piece flags ${flags}` };
  return { ok: true, value: { kind: 'ws', stream, payload, fin: (flags & WS_FIN) !== 0, binary: (flags & WS_BINARY) !== 0 } };
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
const isCloseCode = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 1000 && (x as number) <= 4999;
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
    case 'wsaccept':
      if (!isStreamId(o.id) || typeof o.protocol !== 'string') return bad(o.type, 'needs "id" and "protocol" (a string, "" for none)');
      return { ok: true, value: { type: 'wsaccept', id: o.id, protocol: o.protocol } };
    case 'wsrefuse':
      if (!isStreamId(o.id) || !Number.isInteger(o.status) || (o.status as number) < 400 || (o.status as number) > 599) return bad(o.type, 'needs "id" and "status" (400-599)');
      return { ok: true, value: { type: 'wsrefuse', id: o.id, status: o.status as number, message: typeof o.message === 'string' ? o.message : '' } };
    case 'wsclose':
      return parseWsClose(o);
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
      const v = Number.isInteger(o.v) ? (o.v as number) : 1;
      const ws = isPositive(o.wsMaxMessage) ? { wsMaxMessage: o.wsMaxMessage } : {};
      return { ok: true, value: { type: 'welcome', v, id, offers: known, heartbeatSecs, window, messageWindow, maxMessageBytes, ...ws } };
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
    case 'wsopen': {
      const { id, path, headers, protocols } = o;
      if (!isStreamId(id) || typeof path !== 'string' || !path.startsWith('/') || !isHeaderPairs(headers) || !(Array.isArray(protocols) && protocols.every((p) => typeof p === 'string'))) {
        return bad(o.type, 'needs "id", "path" (absolute), "headers" pairs and "protocols" (strings)');
      }
      return { ok: true, value: { type: 'wsopen', id, path, headers, protocols } };
    }
    case 'wsclose':
      return parseWsClose(o);
    case 'ack':
      return isCount(o.seq) ? { ok: true, value: { type: 'ack', seq: o.seq } } : bad(o.type, '"seq" must be a count');
    case 'nack':
      if (!isCount(o.seq) || !oneOf(NACK_CODES, o.code)) return bad(o.type, '"seq" must be a count and "code" a known code');
      return { ok: true, value: { type: 'nack', seq: o.seq, code: o.code, message: String(o.message ?? '') } };
    default:
      return { ok: false, error: `unknown frame type "${o.type}"` };
  }
}

function parseWsClose(o: Obj): Parsed<WsClose> {
  if (!isStreamId(o.id) || !isCloseCode(o.code)) return bad('wsclose', 'needs "id" and "code" (1000-4999)');
  return { ok: true, value: { type: 'wsclose', id: o.id, code: o.code, reason: typeof o.reason === 'string' ? o.reason.slice(0, 123) : '' } };
}

/** Serialises a frame; the types make sure only real frames go out. */
export const frameText = (f: AgentFrame | ServerFrame | Hello): string => JSON.stringify(f);
