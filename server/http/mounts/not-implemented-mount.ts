/** @module Origins not implemented yet answer 501 with a coded error. */
import type { Origin } from '../../config/model.ts';
import { tswsError } from '../../base/errors.ts';
import type { MountRequest } from '../mount-request.ts';

export function serveNotImplemented(m: MountRequest<Origin>): void {
  const e = tswsError('TSWS_ERR_HTTP_NOT_IMPLEMENTED', { vhost: m.ex.vhost.name, origin: m.mount.originText });
  m.ex.sendStatus(e.httpStatus ?? 501, 'This mount origin is not implemented yet.');
}
