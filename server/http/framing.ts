/** @module What is refused before anything serves a request: ambiguous framing (where the body ends) and CONNECT, closing the connection after them. */
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
import type { HttpReq } from '../transport/types.ts';
import type { HeaderList, HttpExchange } from './exchange.ts';

/** How the body is framed: a declared length, chunked, or none (length undefined, not chunked). */
export interface BodyFraming {
  readonly ok: true;
  readonly length: number | undefined;
  readonly chunked: boolean;
}

export type Framing = BodyFraming | { readonly ok: false; readonly detail: string };

// Read on every request: as bytes, which uWS.js reads in place (HttpReq.getHeader).
const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');

const NO_BODY: BodyFraming = { ok: true, length: undefined, chunked: false };
const CHUNKED: BodyFraming = { ok: true, length: undefined, chunked: true };

/**
 * Request smuggling lives where two parsers disagree on where a body ends.
 * uWS.js takes the first of two Content-Length headers and the first
 * Transfer-Encoding header, so a front proxy taking the other one would see
 * the bytes after the body as part of it, and uWS.js as a second request.
 * Anything a reader could take two ways is refused: differing lengths, a
 * length that is not digits, a length beside Transfer-Encoding, and any
 * Transfer-Encoding but exactly "chunked" (we decode no other coding).
 *
 * The common request carries neither header: two header reads and no more,
 * as the static-file bench wants. A header present with an empty value reads
 * as absent there; uWS.js also treats it as no body (docs/reference/security.md).
 * Must run inside the request callback (it reads `req`).
 */
export function readFraming(req: HttpReq): Framing {
  const length = req.getHeader(CONTENT_LENGTH);
  const coding = req.getHeader(TRANSFER_ENCODING);
  if (length === '' && coding === '') return NO_BODY;
  const lengths: string[] = [];
  const codings: string[] = [];
  req.forEach((k, v) => {
    if (k === 'content-length') lengths.push(v.trim());
    else if (k === 'transfer-encoding') codings.push(v);
  });
  if (codings.length > 0) {
    if (lengths.length > 0) return { ok: false, detail: 'Content-Length with Transfer-Encoding' };
    const list = codings.join(',').split(',').map((c) => c.trim().toLowerCase());
    if (list.length !== 1 || list[0] !== 'chunked') return { ok: false, detail: `Transfer-Encoding "${codings.join(', ')}": only "chunked" is accepted` };
    return CHUNKED;
  }
  const first = lengths[0] ?? '';
  for (const l of lengths) {
    if (!/^\d{1,15}$/.test(l)) return { ok: false, detail: 'malformed Content-Length' };
    if (l !== first && Number(l) !== Number(first)) return { ok: false, detail: 'conflicting Content-Length headers' };
  }
  return { ok: true, length: Number(first), chunked: false };
}

/**
 * Refuses a request whose framing is ambiguous. Nothing after it on the
 * connection may be read as a request, and uWS.js would parse and dispatch
 * pipelined bytes even after end(body, closeConnection) inside the request
 * callback. So the 400 leaves the callback first: with the abort watched and
 * no response, uWS.js aborts the request (and closes the connection, serving
 * nothing) when more bytes follow in the same packet; otherwise the deferred
 * 400 goes out and closes the connection, unread bytes and all.
 */
export function refuseFraming(ex: HttpExchange, detail: string, log: Logger): void {
  const e = tswsError('TSWS_ERR_HTTP_BAD_BODY_HEADERS', { vhost: ex.vhost.name, uri: ex.uri, detail });
  log.debug({ code: e.code, peer: ex.peer, vhost: ex.vhost.name, uri: ex.uri, detail }, e.message);
  refuseAndClose(ex, e.httpStatus ?? 400, detail);
}

/**
 * CONNECT asks for a tunnel, which tsws opens nowhere (a proxy mount would
 * otherwise forward it upstream and leave the client hanging). 501, not 405:
 * no resource here supports the method (RFC 9110 15.6.2). A client may start
 * its tunnel without waiting for the answer, so what follows is not read as
 * requests either: refused and closed as ambiguous framing is.
 */
export function refuseConnect(ex: HttpExchange, target: string, log: Logger): void {
  const e = tswsError('TSWS_ERR_HTTP_CONNECT_REFUSED', { vhost: ex.vhost.name, target });
  log.debug({ code: e.code, peer: ex.peer, vhost: ex.vhost.name }, e.message);
  refuseAndClose(ex, e.httpStatus ?? 501, 'CONNECT is not supported here: this server opens no tunnels.');
}

/** The refusal leaves the request callback, then closes the connection (see refuseFraming for why). */
function refuseAndClose(ex: HttpExchange, status: number, message: string, headers: HeaderList = []): void {
  ex.watchAbort();
  setImmediate(() => ex.sendStatus(status, message, headers, { closeConnection: true }));
}
