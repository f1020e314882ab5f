/** @module Websocket upgrades under the tunnel's mount: which node, and the verdict its agent's answer gives. */
import type { FilterVerdict, PeerRequest, Timer } from '../../server/plugin/api.ts';
import { encodePath, forwardedHeaders, type RouteContext } from './http-routes.ts';
import { NODE_ID, PROTOCOL } from './wire.ts';

/**
 * `filter`: an upgrade elsewhere on the vhost that asked for `tunnel` is a
 * node's tunnel; one under the mount (`mountUpgrades` brings them all here,
 * whatever subprotocol they ask for) is relayed to node `<id>`'s target as
 * `/<path>`. The browser's 101, or the target's refusal as its HTTP status,
 * waits for the agent's answer; `session` then finds the stream in
 * `ctx.upgrades` under the same request.
 */
export function upgradeVerdict(req: PeerRequest, ctx: RouteContext, timer: (ms: number, fn: () => void) => Timer): FilterVerdict | Promise<FilterVerdict> {
  const { pathInMount, mountpoint } = req;
  if (pathInMount === undefined || mountpoint === undefined) return 'accept';
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  const [, id = '', ...rest] = pathInMount.split('/');
  // The mount itself (or any path there that names no node) takes tunnels, as every other path does.
  if (!NODE_ID.test(id)) return protocols.includes(PROTOCOL) ? 'accept' : { refuse: 404, reason: 'not a node id' };
  const entry = ctx.directory.get(id);
  if (!entry) return ctx.tokens.has(id) ? { refuse: 502, reason: `node ${id} is not connected` } : { refuse: 404, reason: `no node ${id} here` };
  if (!entry.offers.includes('websocket')) return { refuse: 502, reason: `node ${id} does not take websockets (its agent has no --target, or speaks wire version 1)` };
  switch (entry.ref.kind) {
    case 'http':
      return { refuse: 502, reason: `node ${id} is registered with an HTTP address, not a tunnel: reach it directly` };
    case 'tunnel': {
      const link = ctx.directory.tunnel(entry.ref);
      if (!link) return { refuse: 502, reason: `node ${id} is not connected` };
      const path = `${encodePath(`/${rest.join('/')}`)}${req.query ? `?${req.query}` : ''}`;
      const stream = link.openWs({ path, headers: forwardedHeaders(req, mountpoint, id), protocols }, ctx, timer);
      if (!stream) return { refuse: 503, reason: `node ${id} is carrying ${ctx.maxStreams} requests and websockets already; try again` };
      ctx.upgrades.set(req, stream);
      return stream.verdict;
    }
    default: {
      const unreachable: never = entry.ref;
      return unreachable;
    }
  }
}
