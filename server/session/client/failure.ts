/** @module Turns what `ws` and Node report about a failed client attempt into one coded error. */
import { tswsError, type TswsError } from '../../base/errors.ts';
import type { ClientAt } from '../../base/errors-client.ts';

/** Node's codes for certificate checks (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID...) and OpenSSL failures (ERR_SSL_*, EPROTO). */
const TLS_CODE = /CERT|SSL|TLS|UNABLE_TO_|EPROTO/;
/** Nobody listens there: a TCP port (ECONNREFUSED), or a UNIX socket path with no file (ENOENT). */
const REFUSED = new Set(['ECONNREFUSED', 'ENOENT']);
/** The other end hung up during the handshake. */
const HUNG_UP = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Before establishment, `ws` reports its own handshake checks (a non-101
 * answer, a bad Sec-WebSocket-Accept, a subprotocol other than the one asked)
 * as plain errors without a `code`; everything with a code comes from Node's
 * socket, DNS or TLS layers. That split is what tells a bad handshake from
 * the rest, without reading `ws`'s message texts.
 */
export function attemptFailure(err: Error & { code?: unknown }, where: ClientAt): TswsError {
  const code = typeof err.code === 'string' ? err.code : undefined;
  const reason = code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  if (code === undefined) return tswsError('TSWS_ERR_CLIENT_BAD_HANDSHAKE', { ...where, reason }, err);
  if (REFUSED.has(code)) return tswsError('TSWS_ERR_CLIENT_REFUSED', { ...where, reason }, err);
  if (where.url.startsWith('wss:') && TLS_CODE.test(code)) return tswsError('TSWS_ERR_CLIENT_TLS', { ...where, reason }, err);
  if (HUNG_UP.has(code)) return tswsError('TSWS_ERR_CLIENT_CLOSED', { ...where, when: 'before the handshake completed', reason }, err);
  return tswsError('TSWS_ERR_CLIENT_UNREACHABLE', { ...where, reason }, err);
}

/** An established connection that ended with no close frame (1006): cut by the network, the server's crash, or a missed pong. */
export function cutFailure(reason: string, where: ClientAt, cause: unknown): TswsError {
  return tswsError('TSWS_ERR_CLIENT_CLOSED', { ...where, when: 'without a close frame', reason }, cause);
}
