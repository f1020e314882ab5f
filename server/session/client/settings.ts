/** @module Checks what a plugin passed to vhost.connect and fills in the defaults, once, before the first attempt. */
import type { ClientOptions } from 'ws';
import { tswsError } from '../../base/errors.ts';
import type { ClientAt } from '../../base/errors-client.ts';
import type { ClientConnectInfo } from '../../plugin/api-client.ts';
import type { ClientOrigin } from './client-host.ts';

/** Connect, TLS and upgrade together: as long as broker peer links always allowed (a peer under load answers late, not never). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** "Equal jitter": every delay between half and all of its ceiling. */
export const DEFAULT_JITTER = 0.5;

const SCHEMES = new Set(['ws:', 'wss:', 'ws+unix:']);

export interface ReconnectSettings {
  readonly firstMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly resetOn: 'established' | 'manual';
}

export interface ClientSettings {
  readonly url: string;
  /** What is asked for, as `ws` takes it (ws checks each name and refuses duplicates). */
  readonly subprotocols: readonly string[];
  /** The same for messages and errors: "" for none, several joined by ", ". */
  readonly subprotocol: string;
  readonly timeoutMs: number;
  readonly reconnect: ReconnectSettings | undefined;
  readonly pingIntervalMs: number;
  /** What `ws` is given for every attempt. */
  readonly ws: ClientOptions;
  /** For coded errors. */
  readonly at: ClientAt;
}

const positive = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;

/** Throws TSWS_ERR_CLIENT_OPTIONS naming the first thing that cannot be used. */
export function clientSettings(info: ClientConnectInfo<unknown, unknown>, origin: ClientOrigin): ClientSettings {
  const asked = info.protocol ?? [];
  // "" asks for none, as it always did.
  const subprotocols = typeof asked === 'string' ? (asked === '' ? [] : [asked]) : [...asked];
  const subprotocol = subprotocols.join(', ');
  const at: ClientAt = { plugin: origin.pluginName, vhost: origin.vhostName, protocol: origin.protocol, url: String(info.url), subprotocol };
  const refuse = (reason: string) => tswsError('TSWS_ERR_CLIENT_OPTIONS', { ...at, reason });
  let scheme: string;
  try {
    scheme = new URL(info.url).protocol;
  } catch {
    throw refuse('not a URL');
  }
  if (!SCHEMES.has(scheme)) throw refuse(`"${scheme}" is not ws:, wss: or ws+unix:`);
  const timeoutMs = info.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!positive(timeoutMs)) throw refuse('timeoutMs must be above 0');
  const pingIntervalMs = info.pingIntervalMs ?? 0;
  if (pingIntervalMs !== 0 && !positive(pingIntervalMs)) throw refuse('pingIntervalMs must be 0 (off) or above');
  const maxPayload = info.maxMessageSize ?? origin.maxMessageSize;
  if (!positive(maxPayload)) throw refuse('maxMessageSize must be above 0');
  let reconnect: ReconnectSettings | undefined;
  if (info.reconnect) {
    const { firstMs, maxMs, jitter = DEFAULT_JITTER, resetOn = 'established' } = info.reconnect;
    if (!positive(firstMs) || !positive(maxMs) || maxMs < firstMs) throw refuse('reconnect needs 0 < firstMs <= maxMs');
    if (!(jitter >= 0 && jitter <= 1)) throw refuse('reconnect.jitter must be from 0 to 1');
    reconnect = { firstMs, maxMs, jitter, resetOn };
  }
  const tls = info.tls ?? {};
  return {
    url: info.url,
    subprotocols,
    subprotocol,
    timeoutMs,
    reconnect,
    pingIntervalMs,
    at,
    ws: {
      headers: { ...info.headers },
      maxPayload,
      // Messages are handed over whole and uncompressed, as served connections are (no permessage-deflate there either).
      perMessageDeflate: false,
      // A redirect would take the connection somewhere the operator did not configure.
      followRedirects: false,
      ...(tls.ca !== undefined ? { ca: typeof tls.ca === 'string' || Buffer.isBuffer(tls.ca) ? tls.ca : [...tls.ca] } : {}),
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    },
  };
}
