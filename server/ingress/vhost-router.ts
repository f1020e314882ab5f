/** @module VhostRouter picks the vhost for a request on one listener: by Host, and on TLS listeners by the SNI name too. */
import type { Vhost } from '../vhost/vhost.ts';
import { hostName } from '../http/host-name.ts';

/** A TLS request whose Host names another vhost than its SNI name: answered 421. */
export const MISDIRECTED = 'misdirected';

export class VhostRouter {
  readonly vhosts: readonly Vhost[];
  readonly tls: boolean;
  readonly #byName: ReadonlyMap<string, Vhost>;
  /**
   * Whether the Host header can change the answer: it picks among several
   * vhosts, is checked against the SNI name, or names a redirect's target.
   * With one plain vhost and no redirect-http nothing reads it, so the
   * request handler skips a transport call.
   */
  readonly readsHost: boolean;

  constructor(vhosts: readonly Vhost[], tls = false) {
    if (vhosts.length === 0) throw new Error('a listener needs at least one vhost');
    this.vhosts = vhosts;
    this.tls = tls;
    this.#byName = new Map(vhosts.map((v) => [v.name.toLowerCase(), v]));
    this.readsHost = tls || vhosts.length > 1 || vhosts.some((v) => v.config.redirectHttp);
  }

  /**
   * Plain listeners: the Host header's name (without port) picks the vhost;
   * an unknown or missing name gets the first vhost of the port, as in lws.
   * TLS listeners: the SNI name picked the certificate, so it picks the vhost,
   * and the Host header must agree with it (else 421). A client that sent no
   * or an unknown name got the first vhost's certificate: it gets that vhost,
   * unless its Host names another vhost of this port (421).
   */
  pick(hostHeader: string, sni?: string): Vhost | typeof MISDIRECTED {
    const first = this.vhosts[0] as Vhost;
    const host = hostHeader ? hostName(hostHeader) : '';
    if (!this.tls) return this.vhosts.length === 1 || !host ? first : (this.#byName.get(host) ?? first);
    const named = sni === undefined ? undefined : this.#byName.get(sni.toLowerCase());
    if (named) return host && host !== named.name.toLowerCase() ? MISDIRECTED : named;
    const byHost = host ? this.#byName.get(host) : undefined;
    return byHost && byHost !== first ? MISDIRECTED : first;
  }
}

