/** @module Refusing a request body (400, 413) on cgi:// and proxy mounts, closing the connection so the rest is never read. */
import type { Logger } from 'pino';
import { tswsError } from '../errors.ts';
import type { HttpExchange } from './exchange.ts';
import type { BodyCheck } from './request-body.ts';

/**
 * uWS.js would otherwise keep reading (and discarding) the rest of a body
 * that was already refused, for as long as the client cares to send it:
 * "Connection: close" ends that. Logged at debug: a client's mistake, not
 * the server's.
 */
export function refuseBody(ex: HttpExchange, refusal: Extract<BodyCheck, { ok: false }>, limit: number, log: Logger): void {
  const e =
    refusal.status === 413
      ? tswsError('TSWS_ERR_HTTP_BODY_TOO_LARGE', { vhost: ex.vhost.name, limit })
      : tswsError('TSWS_ERR_HTTP_BAD_BODY_HEADERS', { vhost: ex.vhost.name, uri: ex.uri, detail: refusal.detail });
  log.debug({ code: e.code, peer: ex.peer, vhost: ex.vhost.name, uri: ex.uri, detail: refusal.detail }, e.message);
  ex.sendStatus(refusal.status, refusal.detail, [], { closeConnection: true });
}
