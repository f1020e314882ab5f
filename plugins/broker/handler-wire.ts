/** @module The handler framing, the same over a UNIX socket and over stdin/stdout: one JSON object per line each way. */
import { MESSAGE_TYPE, SERVER_NAME, USERNAME } from './names.ts';

/** A line longer than this (either way) breaks the framing: a client message is at most 1 MiB, so this leaves room for the envelope. */
export const MAX_LINE_BYTES = 2 * 1024 * 1024;
/** Recipients one command may name. */
export const MAX_RECIPIENTS = 1000;
/** An error message from a handler is cut to this many characters before it reaches a client. */
const MAX_ERROR_TEXT = 1000;

/** What the broker asks a handler (README "Handler framing"). */
export interface HandlerRequest {
  readonly type: string;
  /** The user on whose behalf (the sender; for `login`, the name being claimed). */
  readonly user: string;
  /** The server that user is connected to: this one. */
  readonly server: string;
  /** Handlers this message went through before this one (sendHandler chains). */
  readonly hops: number;
  readonly payload: unknown;
}

/**
 * The fields are always written in this order, `id` first and `payload`
 * last, and nothing but `payload` can hold a `,` or a `"`-escape: a handler
 * in sh cuts `id` and `payload` out with parameter expansion alone
 * (examples/stamp.sh). JSON.stringify never writes a raw newline, so one
 * request is one line.
 */
export function encodeRequest(id: number, r: HandlerRequest): string {
  return `{"id":${id},"type":${JSON.stringify(r.type)},"user":${JSON.stringify(r.user)},"server":${JSON.stringify(r.server)},"hops":${r.hops},"payload":${JSON.stringify(r.payload ?? null)}}\n`;
}

/** What a handler tells the broker to do with a message. */
export type Command =
  | { readonly command: 'reply'; readonly payload: unknown }
  | { readonly command: 'sendClients'; readonly clients: readonly string[]; readonly payload: unknown }
  | { readonly command: 'sendServers'; readonly servers: readonly string[]; readonly clients: readonly string[]; readonly payload: unknown }
  | { readonly command: 'sendHandler'; readonly type: string; readonly payload: unknown }
  | { readonly command: 'error'; readonly message: string };

export const COMMANDS = ['reply', 'sendClients', 'sendServers', 'sendHandler', 'error'] as const;

/**
 * A reply line is one of: a command for a request (`id` known), a reply
 * whose `id` can be read but whose command is wrong (only that request
 * fails), or garbage (no id to be read: the stream cannot be trusted).
 */
export type ReplyLine =
  | { readonly kind: 'command'; readonly id: number; readonly command: Command }
  | { readonly kind: 'bad-reply'; readonly id: number; readonly error: string }
  | { readonly kind: 'garbage'; readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function names(v: unknown, field: string, rule: RegExp): readonly string[] | string {
  if (!Array.isArray(v) || v.length === 0) return `"${field}" must be a non-empty array of names`;
  if (v.length > MAX_RECIPIENTS) return `"${field}" names more than ${MAX_RECIPIENTS}`;
  const out = new Set<string>();
  for (const n of v) {
    if (typeof n !== 'string' || !rule.test(n)) return `"${field}" holds ${JSON.stringify(n)}, which is not a valid name`;
    out.add(n);
  }
  return [...out];
}

function command(o: Record<string, unknown>): Command | string {
  const payload = o.payload === undefined ? null : o.payload;
  switch (o.command) {
    case 'reply':
      return { command: 'reply', payload };
    case 'sendClients': {
      const clients = names(o.clients, 'clients', USERNAME);
      return typeof clients === 'string' ? clients : { command: 'sendClients', clients, payload };
    }
    case 'sendServers': {
      const servers = names(o.servers, 'servers', SERVER_NAME);
      if (typeof servers === 'string') return servers;
      const clients = names(o.clients, 'clients', USERNAME);
      return typeof clients === 'string' ? clients : { command: 'sendServers', servers, clients, payload };
    }
    case 'sendHandler':
      if (typeof o.type !== 'string' || !MESSAGE_TYPE.test(o.type)) return '"type" must name a message type';
      return { command: 'sendHandler', type: o.type, payload };
    case 'error':
      if (typeof o.message !== 'string') return '"message" must be a string';
      return { command: 'error', message: o.message.slice(0, MAX_ERROR_TEXT) };
    default:
      return `"command" must be one of ${COMMANDS.join(', ')}, got ${JSON.stringify(o.command)}`;
  }
}

export function parseReplyLine(line: string): ReplyLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'garbage', error: `not JSON: ${JSON.stringify(line.slice(0, 80))}` };
  }
  if (!isObject(v)) return { kind: 'garbage', error: 'not a JSON object' };
  const id = v.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return { kind: 'garbage', error: `no request id ("id" is ${JSON.stringify(id)})` };
  const c = command(v);
  return typeof c === 'string' ? { kind: 'bad-reply', id, error: c } : { kind: 'command', id, command: c };
}

/**
 * Splits a byte stream into lines (`\n`, a `\r` before it is dropped; empty
 * lines are skipped). A line growing past `max` bytes calls `tooLong` and
 * stops the reader: the framing is lost, the stream has to go.
 */
export class LineReader {
  readonly #max: number;
  readonly #onLine: (line: string) => void;
  readonly #onTooLong: () => void;
  #parts: Buffer[] = [];
  #size = 0;
  #stopped = false;

  constructor(max: number, onLine: (line: string) => void, onTooLong: () => void) {
    this.#max = max;
    this.#onLine = onLine;
    this.#onTooLong = onTooLong;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.#stopped) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#size + (end - start) > this.#max) {
        this.#stopped = true;
        this.#parts = [];
        this.#onTooLong();
        return;
      }
      if (nl < 0) {
        if (end > start) {
          this.#parts.push(chunk.subarray(start));
          this.#size += end - start;
        }
        return;
      }
      const piece = chunk.subarray(start, nl);
      const whole = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#size = 0;
      start = nl + 1;
      const text = whole.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') this.#onLine(text);
    }
  }
}
