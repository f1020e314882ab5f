/** @module A request asking for a websocket that is no valid opening handshake: 400, never the resource at its path (RFC 6455 4.2.1). */
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
import type { HttpReq } from '../transport/types.ts';
import type { HttpExchange } from './exchange.ts';

// Read on every request, as bytes (see framing.ts): one more header read on the static-file path.
const UPGRADE = Buffer.from('upgrade');
/** 16 bytes in base64: 22 characters and "==" (RFC 6455 4.1, item 7). uWS.js takes any 24 characters. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** What is wrong with a Sec-WebSocket-Key, or undefined when it is one. */
export function badKey(key: string): string | undefined {
  if (KEY.test(key)) return undefined;
  return key === '' ? 'no Sec-WebSocket-Key' : `Sec-WebSocket-Key ${JSON.stringify(key.slice(0, 64))} is not 16 bytes in base64`;
}

/**
 * uWS.js takes only a GET with a 24-character Sec-WebSocket-Key for an
 * upgrade and yields every other request to the HTTP routes, so a client
 * whose handshake is broken (key "abc", or none) got 200 and the file at its
 * path: it then waits for a 101 that never comes, or reads a page as frames.
 * RFC 6455 4.2.1 wants an error status. A request whose Upgrade header names
 * websocket and reaches the HTTP routes is such a failed handshake; what is
 * wrong with it is read only then. Returns undefined for any other request.
 */
export function failedUpgrade(req: HttpReq, method: string): string | undefined {
  const upgrade = req.getHeader(UPGRADE);
  if (upgrade === '' || !upgrade.split(',').some((t) => t.trim().toLowerCase() === 'websocket')) return undefined;
  if (method.toUpperCase() !== 'GET') return `a websocket upgrade is a GET, not ${method}`;
  return badKey(req.getHeader('sec-websocket-key')) ?? 'not a websocket opening handshake';
}

export function refuseFailedUpgrade(ex: HttpExchange, detail: string, log: Logger): void {
  const e = tswsError('TSWS_ERR_UPGRADE_BAD_HANDSHAKE', { vhost: ex.vhost.name, uri: ex.uri, detail });
  log.debug({ code: e.code, peer: ex.peer, vhost: ex.vhost.name }, e.message);
  ex.sendStatus(e.httpStatus ?? 400, detail);
}
