/** @module http(s):// mounts: reverse proxy for requests and websocket upgrades (not implemented yet: 501). */
import type { MountConfig, Origin } from '../config/model.ts';
import type { PeerRequest } from '../plugin/api.ts';
import type { WsSession } from '../session/ws-session.ts';
import type { HttpRes, UpgradeContext } from '../transport/types.ts';
import type { HttpExchange } from './exchange.ts';
import { serveNotImplemented } from './not-implemented-mount.ts';
import type { MountRequest } from './mount-request.ts';

type ProxyOrigin = Extract<Origin, { kind: 'proxy' }>;

export function serveProxyMount(m: MountRequest<ProxyOrigin>): void {
  serveNotImplemented(m);
}

/** A websocket upgrade under a proxy mount: everything read from the request is already here. */
export interface ProxyUpgrade {
  readonly res: HttpRes;
  readonly context: UpgradeContext;
  readonly key: string;
  readonly requested: string;
  readonly extensions: string;
  readonly request: PeerRequest;
  readonly mount: MountConfig & { readonly origin: ProxyOrigin };
  readonly path: string;
  readonly ex: HttpExchange;
  readonly deps: { readonly connections: Set<WsSession> };
}

export function proxyUpgrade(u: ProxyUpgrade): void {
  u.ex.sendStatus(501, 'Proxying websocket upgrades is not implemented yet.');
}
