/** @module The broker-peer protocol between federated servers: hello and its answer, then deliveries, one JSON object per TEXT frame. */
import { MAX_RECIPIENTS } from './handler-wire.ts';
import { SERVER_NAME, USERNAME } from './names.ts';

export const PEER_PROTOCOL = 'broker-peer';
/** 2: deliveries carry a `ref` and are answered with `delivered` (version 1 peers never answered). */
export const PEER_WIRE_VERSION = 2;

/** What the linking server sends on the link it opened. */
export type LinkFrame =
  | { readonly type: 'hello'; readonly v: number; readonly server: string; readonly secret: string }
  /** Delivered on the accepting server to its users `clients`, as a message from `from` on the linking server; answered with `delivered` and the same `ref`. */
  | { readonly type: 'deliver'; readonly ref: number; readonly from: string; readonly clients: readonly string[]; readonly payload: unknown };

export const REFUSAL_CODES = ['bad-hello', 'bad-version', 'bad-secret', 'no-broker'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];
const isRefusalCode = (v: unknown): v is RefusalCode => REFUSAL_CODES.some((c) => c === v);

/** What the accepting server answers a hello with. */
export type HelloAnswer =
  | { readonly type: 'welcome'; readonly v: typeof PEER_WIRE_VERSION; readonly server: string }
  | { readonly type: 'refused'; readonly code: RefusalCode; readonly message: string };

/** The accepting server's answer to a deliver: who of `clients` got it, who is not connected there. */
export type DeliveredFrame = { readonly type: 'delivered'; readonly ref: number; readonly clients: readonly string[]; readonly unreachable: readonly string[] };

/** Every frame the accepting server writes. */
export type AcceptFrame = HelloAnswer | DeliveredFrame;

/** Close codes of a peer link (README "Federation"). */
export const CLOSE_REFUSED = 4003;

export type ParsedFrame<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function json(text: string): Record<string, unknown> | string {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : 'not a JSON object';
  } catch {
    return 'not JSON';
  }
}

export function parseLinkFrame(text: string): ParsedFrame<LinkFrame> {
  const o = json(text);
  if (typeof o === 'string') return { ok: false, error: o };
  switch (o.type) {
    case 'hello':
      if (typeof o.v !== 'number') return { ok: false, error: 'hello: "v" must be a number' };
      if (typeof o.server !== 'string' || !SERVER_NAME.test(o.server)) return { ok: false, error: 'hello: "server" must be a server name' };
      if (typeof o.secret !== 'string') return { ok: false, error: 'hello: "secret" must be a string' };
      return { ok: true, value: { type: 'hello', v: o.v, server: o.server, secret: o.secret } };
    case 'deliver': {
      if (typeof o.from !== 'string' || !USERNAME.test(o.from)) return { ok: false, error: 'deliver: "from" must be a username' };
      const c: unknown[] = Array.isArray(o.clients) ? o.clients : [];
      const clients = c.filter((n): n is string => typeof n === 'string' && USERNAME.test(n));
      if (clients.length === 0 || clients.length !== c.length || clients.length > MAX_RECIPIENTS) {
        return { ok: false, error: 'deliver: "clients" must be a non-empty array of usernames' };
      }
      if (!isRef(o.ref)) return { ok: false, error: 'deliver: "ref" must be a non-negative integer' };
      return { ok: true, value: { type: 'deliver', ref: o.ref, from: o.from, clients, payload: o.payload === undefined ? null : o.payload } };
    }
    default:
      return { ok: false, error: `unknown frame type ${JSON.stringify(o.type)}` };
  }
}

export function parseHelloAnswer(text: string): ParsedFrame<HelloAnswer> {
  const o = json(text);
  if (typeof o === 'string') return { ok: false, error: o };
  if (o.type === 'welcome' && o.v === PEER_WIRE_VERSION && typeof o.server === 'string') return { ok: true, value: { type: 'welcome', v: PEER_WIRE_VERSION, server: o.server } };
  if (o.type === 'refused' && isRefusalCode(o.code) && typeof o.message === 'string') return { ok: true, value: { type: 'refused', code: o.code, message: o.message } };
  return { ok: false, error: 'neither a welcome nor a refusal' };
}

const isRef = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const usernames = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((n) => typeof n === 'string' && USERNAME.test(n)) ? (v as string[]) : undefined);

/** A frame on an open link, from the accepting server: only `delivered`. */
export function parseDelivered(text: string): ParsedFrame<DeliveredFrame> {
  const o = json(text);
  if (typeof o === 'string') return { ok: false, error: o };
  const clients = usernames(o.clients);
  const unreachable = usernames(o.unreachable);
  if (o.type !== 'delivered' || !isRef(o.ref) || !clients || !unreachable) return { ok: false, error: 'not a delivered frame' };
  return { ok: true, value: { type: 'delivered', ref: o.ref, clients, unreachable } };
}
