/** @module Groups vhosts by listening address and picks one per request from the Host header. */
import type { VhostConfig } from '../config/model.ts';
import type { Vhost } from './vhost.ts';

/** Vhosts with the same key share one listening socket. */
export function listenerKey(vh: VhostConfig): string {
  return vh.unixSocket ? `unix:${vh.iface}` : `${vh.iface ?? '*'}:${vh.port}`;
}

export class VhostRouter {
  readonly vhosts: readonly Vhost[];
  readonly #byName: ReadonlyMap<string, Vhost>;

  constructor(vhosts: readonly Vhost[]) {
    if (vhosts.length === 0) throw new Error('a listener needs at least one vhost');
    this.vhosts = vhosts;
    this.#byName = new Map(vhosts.map((v) => [v.name.toLowerCase(), v]));
  }

  /** Host header name without port; an unknown or missing name gets the first vhost of the port (as lws does). */
  pick(hostHeader: string): Vhost {
    const first = this.vhosts[0] as Vhost;
    if (this.vhosts.length === 1 || !hostHeader) return first;
    return this.#byName.get(hostName(hostHeader)) ?? first;
  }
}

export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}
