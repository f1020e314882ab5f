/** @module The client protocol: what a client sends (login, typed messages) and every message the broker sends it, parsed strictly. */
import type { FailureCode } from './handler.ts';
import { isClientId, MESSAGE_TYPE, RESERVED_TYPES, USERNAME, type ClientId } from './names.ts';

export const PROTOCOL = 'broker';

export type ClientRequest =
  | { readonly kind: 'login'; readonly id: ClientId | undefined; readonly username: string; readonly password: string }
  | { readonly kind: 'message'; readonly id: ClientId; readonly type: string; readonly payload: unknown };

export type ErrorCode =
  | 'bad-request'
  | 'not-logged-in'
  | 'already-logged-in'
  | 'login-failed'
  | 'auth-unavailable'
  | 'no-handler'
  | 'handler-error'
  | 'hop-limit'
  | FailureCode;

export type ServerMessage =
  | { readonly type: 'welcome'; readonly id?: ClientId; readonly user: string; readonly server: string; readonly types: readonly string[] }
  | { readonly type: 'reply'; readonly id: ClientId; readonly payload: unknown }
  | {
      readonly type: 'sent';
      readonly id: ClientId;
      /** sendClients: the users it was delivered to; sendServers: user@server for each user a server delivered it to. */
      readonly clients?: readonly string[];
      /** sendServers: the servers it was handed to. */
      readonly servers?: readonly string[];
      /** Named recipients it did not reach: users not connected here; for sendServers, servers not linked and user@server for users not connected there (or not confirmed). */
      readonly unreachable: readonly string[];
    }
  | { readonly type: 'message'; readonly from: string; readonly server: string; readonly payload: unknown }
  | { readonly type: 'error'; readonly id?: ClientId; readonly code: ErrorCode; readonly message: string };

export type Parsed = { readonly ok: true; readonly value: ClientRequest } | { readonly ok: false; readonly id: ClientId | undefined; readonly message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One TEXT frame from a client. Fields a request does not use are ignored. */
export function parseClientMessage(text: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, id: undefined, message: 'every message is one JSON object: {"type", "id", "payload"}' };
  }
  if (!isObject(v)) return { ok: false, id: undefined, message: 'every message is one JSON object: {"type", "id", "payload"}' };
  const id = isClientId(v.id) ? v.id : undefined;
  if (v.id !== undefined && id === undefined) return { ok: false, id: undefined, message: '"id" must be a string of at most 128 characters or an integer' };
  if (typeof v.type !== 'string') return { ok: false, id, message: '"type" must be a string' };
  if (v.type === 'login') {
    if (typeof v.username !== 'string' || !USERNAME.test(v.username)) {
      return { ok: false, id, message: '"username" must be 1-32 letters, digits, "_", "." or "-"' };
    }
    if (typeof v.password !== 'string') return { ok: false, id, message: '"password" must be a string' };
    return { ok: true, value: { kind: 'login', id, username: v.username, password: v.password } };
  }
  if (!MESSAGE_TYPE.test(v.type) || RESERVED_TYPES.has(v.type)) return { ok: false, id, message: `"${v.type.slice(0, 64)}" is not a message type` };
  if (id === undefined) return { ok: false, id, message: 'a message needs an "id" (it comes back with the answer)' };
  return { ok: true, value: { kind: 'message', id, type: v.type, payload: v.payload === undefined ? null : v.payload } };
}
