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

/** A chat message, live or from history: the name and time are the server's. */
export interface ChatMessage {
  readonly type: 'message';
  /** Increases by one per message within the room's epoch. */
  readonly id: number;
  /**
   * The room's id sequence: an opaque string, new whenever ids start again at 1
   * (a forgotten room re-created, a restarted server, a Redis that lost its
   * data). A client keeps (epoch, id): ids of another epoch are never "seen".
   */
  readonly epoch: string;
  readonly room: string;
  readonly name: string;
  readonly text: string;
  /** Server time, milliseconds since the epoch. */
  readonly time: number;
}

export type LeaveReason = 'leave' | 'disconnect';

export type ServerMessage =
  | {
      readonly type: 'welcome';
      readonly room: string;
      readonly name: string;
      readonly members: readonly string[];
      readonly history: readonly ChatMessage[];
      /** The room's epoch now ("" while it has none: no message since it was created or lost). */
      readonly epoch: string;
      /** The last id given in that epoch (0 for none): the next live message is lastId + 1, so a client can tell one it missed. */
      readonly lastId: number;
      readonly time: number;
      readonly limits: { readonly maxText: number };
    }
  | { readonly type: 'joined'; readonly room: string; readonly name: string; readonly time: number }
  | { readonly type: 'left'; readonly room: string; readonly name: string; readonly reason: LeaveReason; readonly time: number }
  | { readonly type: 'members'; readonly room: string; readonly members: readonly string[] }
  | ChatMessage
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
  | { readonly type: 'join'; readonly room: string; readonly name: string }
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
      return { ok: true, value: { type, room: room.value, name: name.value } };
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
