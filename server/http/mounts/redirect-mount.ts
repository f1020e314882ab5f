/** @module >http(s):// mounts: 301 to the target, with the rest of the path appended when "append-path" is set. */
import type { Origin } from '../../config/model.ts';
import type { MountRequest } from '../mount-request.ts';
import { encodePath, joinPath } from '../path-encoding.ts';

type RedirectOrigin = Extract<Origin, { kind: 'redirect' }>;

/**
 * lwsws sends every request under the mountpoint to the target exactly as
 * written. With "append-path" (a tsws extension) the part of the path below
 * the mountpoint and the query follow, so ">https://new.example/docs" on
 * "/docs" sends "/docs/a/b?x=1" to "https://new.example/docs/a/b?x=1". The
 * query then replaces any query the target itself has.
 */
export function redirectTarget(m: MountRequest<RedirectOrigin>['mount'], rest: string, query: string): string {
  if (!m.appendPath) return m.origin.url;
  const url = new URL(m.origin.url);
  url.pathname = joinPath(url.pathname, encodePath(rest));
  if (query) url.search = `?${query}`;
  return url.href;
}

export function serveRedirectMount({ ex, mount, rest, query }: MountRequest<RedirectOrigin>): void {
  ex.redirect(301, redirectTarget(mount, rest, query));
}
