/** @module Routes an HTTP request: vhost by Host, path normalised, longest mount, then the mount's origin. */
import type { Logger } from 'pino';
import { tswsError } from '../errors.ts';
import { remoteAddress, type HttpReq, type HttpRes } from '../transport/types.ts';
import type { VhostRouter } from '../vhost/listener.ts';
import type { Vhost } from '../vhost/vhost.ts';
import { HttpExchange } from './exchange.ts';
import type { FileCache } from './file-cache.ts';
import { sendFile, serveFileMount } from './file-mount.ts';
import { normalizeRequestPath } from './request-path.ts';

export interface HttpDeps {
  readonly fileCache: FileCache;
  readonly serverString: string;
  readonly log: Logger;
}

export function handleHttp(router: VhostRouter, res: HttpRes, req: HttpReq, deps: HttpDeps): void {
  const vhost = router.pick(req.getHeader('host'));
  const rawPath = req.getUrl();
  const query = req.getQuery() ?? '';
  const ex = new HttpExchange(
    res,
    vhost,
    req.getCaseSensitiveMethod(),
    query ? `${rawPath}?${query}` : rawPath,
    remoteAddress(res),
    req.getHeader('referer'),
    req.getHeader('user-agent'),
    deps.serverString,
  );
  const normalized = normalizeRequestPath(rawPath);
  if (!normalized.ok) {
    const e = tswsError('TSWS_ERR_HTTP_BAD_PATH', { path: rawPath, detail: normalized.detail });
    deps.log.debug({ code: e.code, peer: ex.peer, vhost: vhost.name }, e.message);
    return ex.sendStatus(e.httpStatus ?? 400, normalized.detail);
  }
  const path = normalized.path;
  const ifNoneMatch = req.getHeader('if-none-match');
  const notFound = (x: HttpExchange) => sendNotFound(x, deps);
  const mount = vhost.findMount(path);
  if (!mount) return notFound(ex);
  const rest = mount.mountpoint === '/' ? path : path.slice(mount.mountpoint.length);
  const origin = mount.origin;
  switch (origin.kind) {
    case 'file':
      return serveFileMount(ex, { ...mount, origin }, path, rest, ifNoneMatch, query, { cache: deps.fileCache, onNotFound: notFound });
    case 'callback':
    case 'cgi':
    case 'proxy':
    case 'redirect':
    case 'gzip': {
      const e = tswsError('TSWS_ERR_HTTP_NOT_IMPLEMENTED', { vhost: vhost.name, origin: mount.originText });
      return ex.sendStatus(e.httpStatus ?? 501, 'This mount origin is not implemented yet.');
    }
    default: {
      const never: never = origin;
      return never;
    }
  }
}

/** The vhost's error-document-404 when it names a file on a file mount, else a plain page. */
function sendNotFound(ex: HttpExchange, deps: HttpDeps): void {
  const doc = ex.vhost.config.errorDocument404;
  if (doc && tryErrorDocument(ex, ex.vhost, doc, deps)) return;
  ex.sendStatus(404, 'Nothing is served at this address.');
}

function tryErrorDocument(ex: HttpExchange, vhost: Vhost, doc: string, deps: HttpDeps): boolean {
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
