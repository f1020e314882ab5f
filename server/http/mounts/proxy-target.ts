/** @module Reverse-proxy plumbing shared by HTTP and websocket proxying: upstream URLs, forwarded and filtered headers. */
import { HOP_BY_HOP, connectionListed } from '../../base/http-header.ts';
import type { HeaderList } from '../exchange.ts';
import { encodePath, joinPath } from '../path-encoding.ts';

/** An upstream that has not accepted the connection (or the websocket handshake) by then gets the client a 504 (502 for websockets). */
export const PROXY_CONNECT_TIMEOUT_MS = 10_000;

/** Set by us, not copied: Host is the upstream's; X-Forwarded-* are rebuilt. */
const REBUILT = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'expect']);

/** The websocket handshake is redone by the upstream client; these belong to the client's own handshake. */
export const WS_HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'origin']);

/** Written by the framework or the transport (Server, Date, the body's framing). */
const RESPONSE_OWN = new Set(['server', 'date', 'content-length']);

/**
 * lws proxies "/mnt/rest?query" to "<origin path>/rest?query". The rest is
 * the decoded, normalised path, re-encoded segment by segment, so the
 * upstream sees exactly the path the mount matched (no ".." tricks).
 */
export function upstreamUrl(origin: string, rest: string, query: string, scheme?: 'ws'): URL {
  const url = new URL(origin);
  url.pathname = joinPath(url.pathname, encodePath(rest));
  url.search = query ? `?${query}` : '';
  url.hash = '';
  if (scheme === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

export interface Forwarding {
  /** The client's address. */
  readonly peer: string;
  /** "http" or "https": how the client reached us. */
  readonly proto: string;
  /** Drop the client's Authorization: the mount's basic-auth consumed it (the password is ours, not the upstream's). */
  readonly dropAuthorization: boolean;
}

/**
 * The request headers for the upstream: the client's minus hop-by-hop ones,
 * with Host set to the upstream and X-Forwarded-For (appended to any chain
 * the client sent), -Proto and -Host added. `lines` are [name, value, ...]
 * with lower-case names as received, repeats included; so is the result
 * (undici takes that form as it is: no array per header).
 */
export function forwardHeaderLines(lines: readonly string[], upstreamHost: string, f: Forwarding, skip?: ReadonlySet<string>): string[] {
  let connection: string | undefined;
  let clientHost: string | undefined;
  let forwardedFor: string | undefined;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const k = lines[i] as string;
    const v = lines[i + 1] as string;
    if (k === 'connection') connection = connection === undefined ? v : `${connection}, ${v}`;
    else if (k === 'host') clientHost = v;
    else if (k === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? v : `${forwardedFor}, ${v}`;
  }
  const listed = connection === undefined ? undefined : connectionListed(connection);
  const out: string[] = ['host', upstreamHost];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const k = lines[i] as string;
    if (HOP_BY_HOP.has(k) || REBUILT.has(k) || listed?.has(k) || skip?.has(k)) continue;
    if (k === 'authorization' && f.dropAuthorization) continue;
    out.push(k, lines[i + 1] as string);
  }
  out.push('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${f.peer}` : f.peer, 'x-forwarded-proto', f.proto);
  if (clientHost) out.push('x-forwarded-host', clientHost);
  return out;
}

/** forwardHeaderLines for a list of pairs (the websocket proxy's). */
export function forwardHeaders(headers: readonly (readonly [string, string])[], upstreamHost: string, f: Forwarding, skip?: ReadonlySet<string>): [string, string][] {
  const lines = forwardHeaderLines(headers.flat(), upstreamHost, f, skip);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) out.push([lines[i] as string, lines[i + 1] as string]);
  return out;
}

export interface UpstreamHead {
  readonly headers: HeaderList;
  /** The body's length when the upstream declared one we can trust (Content-Length, no Transfer-Encoding). */
  readonly length: number | undefined;
}

/**
 * The upstream's raw header lines ([name, value, name, value...], as bytes)
 * minus what must not reach the client, with its Content-Length picked out in
 * the same pass. Names are read as latin1 (to be matched); values are passed
 * on as the bytes they came as, unless one is read here (the framing ones,
 * Connection, a Location to rewrite).
 */
export function responseHeaders(raw: readonly (Buffer | string)[], rewrite: (location: string) => string): UpstreamHead {
  const out: [string, string | Buffer][] = [];
  let connection: string | undefined;
  let contentLength: string | undefined;
  let chunked = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as Buffer | string;
    const value = raw[i + 1] as Buffer | string;
    const n = typeof name === 'string' ? name : name.toString('latin1');
    const lower = n.toLowerCase();
    if (lower === 'content-length') contentLength = text(value);
    else if (lower === 'transfer-encoding') chunked = true;
    else if (lower === 'connection') connection = connection === undefined ? text(value) : `${connection}, ${text(value)}`;
    if (HOP_BY_HOP.has(lower) || RESPONSE_OWN.has(lower)) continue;
    out.push([n, lower === 'location' || lower === 'content-location' ? rewrite(text(value)) : value]);
  }
  // Rare: only then is the list filtered a second time.
  const headers = connection === undefined ? out : withoutListed(out, connectionListed(connection));
  const length = contentLength !== undefined && !chunked && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
  return { headers, length };
}

/** A header value as node:http reads one: latin1. */
function text(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1');
}

function withoutListed(list: [string, string | Buffer][], listed: Set<string>): [string, string | Buffer][] {
  return listed.size === 0 ? list : list.filter(([k]) => !listed.has(k.toLowerCase()));
}

/**
 * nginx's default proxy_redirect: a Location pointing into the upstream's
 * space under the origin path ("http://up:8080/app/login", or "/app/login")
 * is turned into the same place under the mountpoint ("/mnt/login"), so
 * clients are not sent to an address only the proxy can reach. Anything
 * else (another site, a relative path) is left as it is.
 */
export function locationRewriter(origin: string, mountpoint: string): (location: string) => string {
  const base = new URL(origin);
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const mount = mountpoint === '/' ? '/' : `${mountpoint}/`;
  return (location) => {
    if (!/^(?:https?:\/\/|\/(?!\/))/i.test(location)) return location;
    let url: URL;
    try {
      url = new URL(location, base);
    } catch {
      return location;
    }
    if (url.origin !== base.origin) return location;
    const path = url.pathname === prefix.slice(0, -1) ? prefix : url.pathname;
    if (!path.startsWith(prefix)) return location;
    return `${mount}${path.slice(prefix.length)}${url.search}${url.hash}`;
  };
}
