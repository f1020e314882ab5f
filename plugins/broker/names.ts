/** @module The names the broker deals in (users, servers, message types) and the one rule each follows. */

/**
 * Letters, digits, `_`, `.` and `-`: safe in logs, in JSON without escapes,
 * and in a shell handler that cuts fields out of a request line without a
 * JSON parser (README "Handler framing").
 */
export const USERNAME = /^[A-Za-z0-9_.-]{1,32}$/;
export const SERVER_NAME = /^[A-Za-z0-9_.-]{1,63}$/;
export const MESSAGE_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Types a client cannot send to a handler: they mean something to the broker itself. */
export const RESERVED_TYPES: ReadonlySet<string> = new Set(['login']);

/** Request ids a client picks: a string of at most this many characters, or a safe integer. */
export const MAX_CLIENT_ID_LENGTH = 128;

export type ClientId = string | number;

export function isClientId(v: unknown): v is ClientId {
  return (typeof v === 'string' && v.length <= MAX_CLIENT_ID_LENGTH) || Number.isSafeInteger(v);
}
