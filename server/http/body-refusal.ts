/** @module Refusing a request body (400, 413) on cgi:// and proxy mounts: the answer, then a lingering close. */
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
import type { HttpExchange, UnreadBody } from './exchange.ts';
import type { BodyCheck } from './request-body.ts';

/**
 * uWS.js would otherwise keep reading (and discarding) the rest of a body
 * that was already refused, for as long as the client cares to send it: the
 * refusal is answered with a lingering close (HttpExchange.send, `unread`),
 * which reads the rest for a bounded time and then closes. Logged at debug:
 * a client's mistake, not the server's.
 */
export function refuseBody(ex: HttpExchange, refusal: Extract<BodyCheck, { ok: false }>, limit: number, log: Logger, unread: UnreadBody | undefined): void {
  const e =
    refusal.status === 413
      ? tswsError('TSWS_ERR_HTTP_BODY_TOO_LARGE', { vhost: ex.vhost.name, limit })
      : tswsError('TSWS_ERR_HTTP_BAD_BODY_HEADERS', { vhost: ex.vhost.name, uri: ex.uri, detail: refusal.detail });
  log.debug({ code: e.code, peer: ex.peer, vhost: ex.vhost.name, uri: ex.uri, detail: refusal.detail }, e.message);
  ex.sendStatus(refusal.status, refusal.detail, [], { unread, closeConnection: true });
}
