/** @module Upstream connections for http(s):// mounts: one keep-alive undici Pool per origin, and each mount's path mapping computed once. */
import { Pool } from 'undici';
import type { MountConfig } from '../../config/model.ts';
import { encodePath, joinPath } from '../path-encoding.ts';
import { PROXY_CONNECT_TIMEOUT_MS, locationRewriter } from './proxy-target.ts';

/**
 * Why these numbers (docs/reference/mounts.md, "Upstream connections"):
 * - no cap on connections, as Node's global agent had none: a capped pool
 *   would queue every request behind a few long ones (event streams, long
 *   polls, slow uploads) to the same upstream;
 * - an idle connection is kept 4 s (undici's default; shorter when the
 *   upstream's `Keep-Alive: timeout=N` says so, less a second's margin), long
 *   enough for a busy site, short enough that a quiet one holds no sockets;
 * - no header or body timeout, as before: an upstream may take its time (a
 *   long poll) or stream for hours; a client that leaves drops the request;
 * - one request at a time on a connection (no pipelining), so a connection
 *   the upstream closes fails at most the one request on it.
 */
const POOL_OPTIONS: Pool.Options = {
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000,
  headersTimeout: 0,
  bodyTimeout: 0,
  connectTimeout: PROXY_CONNECT_TIMEOUT_MS,
};

/** Shared by every mount (and vhost, and config generation) that names the same scheme://host:port. */
const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, POOL_OPTIONS);
    pools.set(origin, pool);
  }
  return pool;
}

/** What a mount needs per request, computed from its origin once. */
export interface UpstreamRoute {
  readonly pool: Pool;
  /** scheme://host:port, for log lines. */
  readonly origin: string;
  /** The Host header the upstream gets. */
  readonly host: string;
  /** The origin's path: "/mnt/rest" goes to basePath + "/rest". */
  readonly basePath: string;
  readonly rewriteLocation: (location: string) => string;
}

const routes = new WeakMap<MountConfig, UpstreamRoute>();

export function upstreamRoute(mount: MountConfig & { readonly origin: { readonly url: string } }): UpstreamRoute {
  let route = routes.get(mount);
  if (!route) {
    const url = new URL(mount.origin.url);
    route = { pool: poolFor(url.origin), origin: url.origin, host: url.host, basePath: url.pathname, rewriteLocation: locationRewriter(mount.origin.url, mount.mountpoint) };
    routes.set(mount, route);
  }
  return route;
}

/** Printable ASCII other than what WHATWG URL escapes in a query: such a query goes on as it came. */
const PLAIN_QUERY = /^[!$-&(-;=?-~]*$/;

/**
 * The request target upstream, as upstreamUrl() spells it but without a URL
 * object per request: the rest re-encoded segment by segment, the query as it
 * came unless it holds what URL would escape (then URL does the escaping).
 */
export function upstreamPath(route: UpstreamRoute, rest: string, query: string): string {
  const path = joinPath(route.basePath, encodePath(rest));
  if (!query) return path;
  if (PLAIN_QUERY.test(query)) return `${path}?${query}`;
  const url = new URL('http://x/');
  url.search = `?${query}`;
  return path + url.search;
}

