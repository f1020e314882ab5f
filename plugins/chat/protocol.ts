/** @module The chat wire protocol: message shapes both ways, the name/room/text rules, and parsing of client requests. */

/** Longest user or room name, in characters (code points) after trimming. */
export const MAX_NAME = 32;
/** The room a join without "room" goes to. */
export const DEFAULT_ROOM = 'lobby';

/**
 * Names and rooms: letters and digits of any script, space, "_", "-" and
 * ".". Nothing else, so a name cannot carry markup, terminal escapes or
 * invisible characters, and every client can print it as it is.
 */
const NAME_CHARS = /^[\p{L}\p{N}_.\- ]+$/u;
/** C0 and C1 control characters other than tab and newline: terminal escapes, NUL, bells. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;

// ---- server → client ------------------------------------------------------

/** What the room's channel carries per message (the `data` of a channel `message` frame): the name is the server's. */
export interface ChatLine {
  readonly name: string;
  readonly text: string;
}

/**
 * A chat message with its place in the room's channel: the welcome's history,
 * and what clients make of a channel `message` frame. `offset` counts 1, 2,
 * 3... within `epoch`, an opaque string that changes whenever the channel's
 * store lost its state (docs/reference/channels.md).
 */
export interface ChatMessage extends ChatLine {
  readonly epoch: string;
  readonly offset: number;
  /** Server time, milliseconds since 1970. */
  readonly time: number;
}

/** The channel a room's messages and members are on (channel frames, docs/reference/client.md). */
export const channelOf = (room: string): string => `room:${room}`;

export type ServerMessage =
  | {
      readonly type: 'welcome';
      readonly room: string;
      readonly name: string;
      /** The room's channel: subscribe to it (with `since` = epoch and offset below, and presence) for its messages and members. */
      readonly channel: string;
      /** Names in join order, you included. */
      readonly members: readonly string[];
      /** Up to `history` messages, oldest first. */
      readonly history: readonly ChatMessage[];
      /** The channel's position when the history was read: a subscribe from it misses nothing. */
      readonly epoch: string;
      readonly offset: number;
      readonly time: number;
      readonly limits: { readonly maxText: number };
    }
  /** Your own leave (or move), acknowledged; others see it as a presence `leave`. */
  | { readonly type: 'left'; readonly room: string; readonly name: string; readonly time: number }
  | { readonly type: 'members'; readonly room: string; readonly members: readonly string[] }
  | ErrorMessage;

export const ERROR_CODES = [
  'bad-json',
  'bad-request',
  'unknown-type',
  'bad-name',
  'bad-room',
  'name-taken',
  'already-joined',
  'too-many-rooms',
  'bad-text',
  'text-too-long',
  'not-joined',
  'flooding',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMessage {
  readonly type: 'error';
  readonly code: ErrorCode;
  /** One sentence for a person. */
  readonly message: string;
  /** The "type" of the request refused, when it had a known one. */
  readonly request?: RequestType;
}

// ---- client → server ------------------------------------------------------

export const REQUEST_TYPES = ['join', 'leave', 'send', 'who'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export type Request =
  /** `key`: a secret the client keeps for its whole session; a re-join with it takes back a name its lost connection still holds. */
  | { readonly type: 'join'; readonly room: string; readonly name: string; readonly key?: string }
  | { readonly type: 'leave' }
  | { readonly type: 'send'; readonly text: string }
  | { readonly type: 'who' };

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorMessage };

export const errorMessage = (code: ErrorCode, message: string, request?: RequestType): ErrorMessage =>
  request ? { type: 'error', code, message, request } : { type: 'error', code, message };

const fail = (code: ErrorCode, message: string, request?: RequestType): { ok: false; error: ErrorMessage } => ({ ok: false, error: errorMessage(code, message, request) });

/** Code points, so that "é" and "😀" count as one character each, as a person counts them. */
export const charLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function checkLabel(raw: unknown, what: 'name' | 'room', request: RequestType): Checked<string> {
  const code = what === 'name' ? 'bad-name' : 'bad-room';
  if (typeof raw !== 'string') return fail(code, `"${what}" must be a string`, request);
  // NFC first: "é" typed as e + combining accent is one letter, as the precomposed one.
  const value = raw.normalize('NFC').trim();
  if (value.length === 0) return fail(code, `the ${what} is empty`, request);
  const n = charLength(value);
  if (n > MAX_NAME) return fail(code, `the ${what} is ${n} characters long; at most ${MAX_NAME} are allowed`, request);
  if (!NAME_CHARS.test(value)) return fail(code, `the ${what} may hold only letters, digits, spaces, "_", "-" and "."`, request);
  return { ok: true, value };
}

export const checkName = (raw: unknown, request: RequestType = 'join'): Checked<string> => checkLabel(raw, 'name', request);
export const checkRoom = (raw: unknown, request: RequestType = 'join'): Checked<string> => checkLabel(raw, 'room', request);

/** Message text: kept as sent (no trimming), but not blank, not too long, no control characters. */
export function checkText(raw: unknown, maxLength: number): Checked<string> {
  if (typeof raw !== 'string') return fail('bad-text', '"text" must be a string', 'send');
  if (raw.trim().length === 0) return fail('bad-text', 'the message is empty', 'send');
  const n = charLength(raw);
  if (n > maxLength) return fail('text-too-long', `the message is ${n} characters long; at most ${maxLength} are allowed`, 'send');
  if (CONTROL.test(raw)) return fail('bad-text', 'the message holds control characters (only tab and newline are allowed)', 'send');
  return { ok: true, value: raw };
}

const isRequestType = (t: string): t is RequestType => (REQUEST_TYPES as readonly string[]).includes(t);

/**
 * One text frame to one request, or the error to send back. Fields a request
 * type does not use are ignored, so clients may add their own (a request id,
 * say) without breaking older servers.
 */
export function parseRequest(frame: string, maxText: number): Checked<Request> {
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return fail('bad-json', 'the message is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('bad-request', 'a request is a JSON object with a "type"');
  const obj = json as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string') return fail('bad-request', 'a request is a JSON object with a "type"');
  if (!isRequestType(type)) return fail('unknown-type', `unknown request type ${JSON.stringify(type.slice(0, 40))}; known: ${REQUEST_TYPES.join(', ')}`);
  switch (type) {
    case 'join': {
      const room = checkRoom(obj.room ?? DEFAULT_ROOM);
      if (!room.ok) return room;
      const name = checkName(obj.name);
      if (!name.ok) return name;
      const key = obj.key;
      if (key !== undefined && (typeof key !== 'string' || key.length < 16 || key.length > 128)) return fail('bad-request', '"key" must be a string of 16 to 128 characters', 'join');
      return { ok: true, value: { type, room: room.value, name: name.value, ...(key !== undefined ? { key } : {}) } };
    }
    case 'send': {
      const text = checkText(obj.text, maxText);
      return text.ok ? { ok: true, value: { type, text: text.value } } : text;
    }
    case 'leave':
    case 'who':
      return { ok: true, value: { type } };
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

/** Names are unique within a room regardless of case: "Alice" cannot join next to "alice". */
export const nameKey = (name: string): string => name.toLowerCase();
