/** @module Routes an HTTP request: vhost by Host, path normalised, longest mount, then the mount's origin handler. */
import { tswsError } from '../base/errors.ts';
import { remoteAddress, type HttpReq, type HttpRes } from '../transport/types.ts';
import type { VhostRouter } from './vhost-router.ts';
import { frontDoor, type FrontDoor, type FrontDoorConfig } from './front-door.ts';
import { readFraming, refuseConnect, refuseFraming } from '../http/framing.ts';
import { failedUpgrade, refuseFailedUpgrade } from '../http/failed-upgrade.ts';
import type { Vhost } from '../vhost/vhost.ts';
import { authorize } from '../http/basic-auth.ts';
import { HttpExchange } from '../http/exchange.ts';
import { sendFile, serveFileMount } from '../http/mounts/file-mount.ts';
import type { HttpDeps, MountRequest, OriginTable } from '../http/mount-request.ts';
import { serveNotImplemented } from '../http/mounts/not-implemented-mount.ts';
import { serveProxyMount } from '../http/mounts/proxy-mount.ts';
import { serveCgiMount } from '../http/mounts/cgi-mount.ts';
import { serveCallbackMount } from '../http/mounts/callback-mount.ts';
import { serveRedirectMount } from '../http/mounts/redirect-mount.ts';
import { normalizeRequestPath } from '../http/request-path.ts';
import { serveOps, type OpsDeps } from './ops-routes.ts';

const ORIGINS: OriginTable = {
  file: serveFileMount,
  callback: serveCallbackMount,
  cgi: serveCgiMount,
  proxy: serveProxyMount,
  redirect: serveRedirectMount,
  gzip: serveNotImplemented,
};

/** What a listener's HTTP handler needs: the mounts' context, and the checks made before any mount. */
export interface ListenerHttpDeps extends HttpDeps {
  readonly frontDoor: FrontDoorConfig;
  /** The health path and metrics, answered before mounts. */
  readonly ops: OpsDeps;
}

export function handleHttp(router: VhostRouter, res: HttpRes, req: HttpReq, sni: string | undefined, deps: ListenerHttpDeps): void {
  const rawPath = req.getUrl();
  const query = req.getQuery() ?? '';
  const uri = query ? `${rawPath}?${query}` : rawPath;
  // Each header read is a transport call, and the peer ~1 µs: read User-Agent only when
  // reject-service-keywords screen it or the access log wants it, Referer and peer only for the log.
  const screened = deps.frontDoor.rejectServiceKeywords.length > 0 ? req.getHeader('user-agent') : undefined;
  // Host only where it decides something: several vhosts, TLS, or a redirect to https.
  const door = frontDoor(router, router.readsHost ? req.getHeader('host') : '', sni, screened ?? '', uri, deps.frontDoor);
  const vhost = door.vhost;
  const logging = vhost.accessLog !== undefined;
  const ex = new HttpExchange(
    res,
    vhost,
    req.getCaseSensitiveMethod(),
    uri,
    logging ? remoteAddress(res) : undefined,
    logging ? req.getHeader('referer') : '',
    logging ? (screened ?? req.getHeader('user-agent')) : '',
    deps.serverString,
  );
  ex.inRequestCallback = true;
  try {
    route(ex, req, door, rawPath, query, deps);
  } finally {
    ex.inRequestCallback = false;
    // A response still open now (async handlers, streaming) is what a graceful stop waits for.
    ex.trackIn(deps.inflight);
  }
}

function route(ex: HttpExchange, req: HttpReq, door: FrontDoor, rawPath: string, query: string, deps: ListenerHttpDeps): void {
  const vhost = ex.vhost;
  // Before anything can serve it, or anything after it on the connection.
  const framing = readFraming(req);
  if (!framing.ok) return refuseFraming(ex, framing.detail, deps.log);
  // Any case: Node's http client upper-cases the method it forwards.
  if (ex.method.length === 7 && ex.method.toUpperCase() === 'CONNECT') return refuseConnect(ex, rawPath, deps.log);
  const upgrade = failedUpgrade(req, ex.method);
  if (upgrade !== undefined) return refuseFailedUpgrade(ex, upgrade, deps.log);
  // Health checks reach a redirect-http vhost too (a load balancer probes plain HTTP); refused agents and misdirected requests stay refused.
  if ((door.pass || door.code === 'redirect') && serveOps(ex, rawPath, deps.ops)) return;
  if (!door.pass) {
    if (door.code.startsWith('TSWS_')) deps.log.debug({ code: door.code, peer: ex.peer, vhost: vhost.name }, door.message);
    return ex.sendStatus(door.status, door.message, door.headers);
  }
  const normalized = normalizeRequestPath(rawPath);
  if (!normalized.ok) {
    const e = tswsError('TSWS_ERR_HTTP_BAD_PATH', { path: rawPath, detail: normalized.detail });
    deps.log.debug({ code: e.code, peer: ex.peer, vhost: vhost.name }, e.message);
    return ex.sendStatus(e.httpStatus ?? 400, normalized.detail);
  }
  const path = normalized.path;
  const mount = vhost.findMount(path);
  if (!mount) return deps.notFound(ex);
  const rest = mount.mountpoint === '/' ? path : path.slice(mount.mountpoint.length);
  ex.useMount(mount);
  if (mount.basicAuth !== undefined && !authorize(ex, req.getHeader('authorization'), mount, deps.log)) return;
  dispatch({ ex, req, mount, path, rest, query, framing, deps });
}

/** Narrows the mount's origin so each handler gets its own origin type. */
function dispatch(m: MountRequest): void {
  const handler = ORIGINS[m.mount.origin.kind] as (m: MountRequest) => void;
  handler(m);
}

/** The vhost's error-document-404 when it names a file on a file mount, else a plain page. */
export function sendNotFound(ex: HttpExchange, deps: Pick<HttpDeps, 'fileCache'>): void {
  const doc = ex.vhost.config.errorDocument404;
  if (doc && tryErrorDocument(ex, ex.vhost, doc, deps)) return;
  ex.sendStatus(404, 'Nothing is served at this address.');
}

function tryErrorDocument(ex: HttpExchange, vhost: Vhost, doc: string, deps: Pick<HttpDeps, 'fileCache'>): boolean {
  const normalized = normalizeRequestPath(doc);
  if (!normalized.ok) return false;
  const mount = vhost.findMount(normalized.path);
  if (mount?.origin.kind !== 'file') return false;
  const rest = mount.mountpoint === '/' ? normalized.path : normalized.path.slice(mount.mountpoint.length);
  const found = deps.fileCache.lookup(mount.origin.root, rest);
  if (found.kind !== 'file') return false;
  sendFile(ex, mount, found.entry, '', 404);
  return true;
}
