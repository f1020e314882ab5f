/** @module What every request meets before a mount or protocol sees it: misdirected TLS, redirects to https, refused agents. */
import net from 'node:net';
import { tswsError } from '../base/errors.ts';
import { hostName } from '../http/host-name.ts';
import { MISDIRECTED, type VhostRouter } from './vhost-router.ts';
import type { Vhost } from '../vhost/vhost.ts';
import type { HeaderList } from '../http/exchange.ts';

export interface FrontDoorConfig {
  /** User-Agent substring → status (lwsws reject-service-keywords). */
  readonly rejectServiceKeywords: readonly (readonly [string, number])[];
  /** The TLS port serving a vhost name, once the listeners are up; undefined means 443. */
  httpsPortFor(name: string): number | undefined;
}

export type FrontDoor =
  | { readonly pass: true; readonly vhost: Vhost }
  | { readonly pass: false; readonly vhost: Vhost; readonly status: number; readonly message: string; readonly headers: HeaderList; readonly code: string };

/** `target` is the path and query as requested; `sni` the TLS name whose router took the request. */
const servedNames = new WeakMap<Vhost, ReadonlySet<string>>();

/**
 * The name a redirect to https may carry: the one the client asked for only
 * when this vhost serves it (its name, or an address it listens on, as a
 * client browsing by address uses), else the vhost's name. Copying any Host
 * header into Location would let a request (or a poisoned cache in front)
 * send visitors to https://evil.example/. Vhosts have no aliases in the
 * config; they would join this set.
 */
function redirectName(vhost: Vhost, host: string): string {
  if (!host) return vhost.name;
  let names = servedNames.get(vhost);
  if (!names) {
    const set = new Set([vhost.name.toLowerCase()]);
    for (const l of vhost.config.listens) {
      const ip = l.unixSocket || l.iface === undefined ? 0 : net.isIP(l.iface);
      if (ip === 4) set.add((l.iface as string).toLowerCase());
      if (ip === 6) set.add(`[${(l.iface as string).toLowerCase()}]`);
    }
    names = set;
    servedNames.set(vhost, names);
  }
  const asked = hostName(host);
  return names.has(asked) ? asked : vhost.name;
}

export function frontDoor(router: VhostRouter, host: string, sni: string | undefined, userAgent: string, target: string, cfg: FrontDoorConfig): FrontDoor {
  const picked = router.pick(host, sni);
  if (picked === MISDIRECTED) {
    const e = tswsError('TSWS_ERR_HTTP_MISDIRECTED', { host, sni: sni ?? '(none)' });
    return { pass: false, vhost: router.vhosts[0] as Vhost, status: e.httpStatus ?? 421, message: e.detail, headers: [], code: e.code };
  }
  const vhost = picked;
  for (const [word, status] of cfg.rejectServiceKeywords) {
    if (userAgent.includes(word)) return { pass: false, vhost, status, message: 'This service is not available to your client.', headers: [], code: 'TSWS_ERR_HTTP_AGENT_REFUSED' };
  }
  if (vhost.config.redirectHttp) {
    const name = redirectName(vhost, host);
    const port = cfg.httpsPortFor(vhost.name) ?? 443;
    const location = `https://${name}${port === 443 ? '' : `:${port}`}${target}`;
    return { pass: false, vhost, status: 301, message: `Moved to ${location}`, headers: [['Location', location]], code: 'redirect' };
  }
  return { pass: true, vhost };
}
