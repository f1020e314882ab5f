/** @module cgi:// mounts: CGI/1.1 scripts (not implemented yet: 501). */
import type { Origin } from '../config/model.ts';
import type { MountRequest } from './mount-request.ts';
import { serveNotImplemented } from './not-implemented-mount.ts';

export function serveCgiMount(m: MountRequest<Extract<Origin, { kind: 'cgi' }>>): void {
  serveNotImplemented(m);
}
