/** @module >http(s):// mounts: redirects (not implemented yet: 501). */
import type { Origin } from '../config/model.ts';
import type { MountRequest } from './mount-request.ts';
import { serveNotImplemented } from './not-implemented-mount.ts';

export function serveRedirectMount(m: MountRequest<Extract<Origin, { kind: 'redirect' }>>): void {
  serveNotImplemented(m);
}
