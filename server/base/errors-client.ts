/** @module Registry entries for client connections a plugin opens (vhost.connect), spread into errors.ts's REGISTRY. */
import { error } from './error-entry.ts';

/** Where a client connection failed: which plugin asked, for which vhost and protocol, to go where. */
export interface ClientAt {
  readonly plugin: string;
  readonly vhost: string;
  readonly protocol: string;
  readonly url: string;
  /** The subprotocol asked for, "" for none. */
  readonly subprotocol: string;
}

const at = (p: ClientAt) => `plugin ${p.plugin}, vhost "${p.vhost}", protocol "${p.protocol}": client connection to ${p.url}${p.subprotocol ? ` (subprotocol "${p.subprotocol}")` : ''}`;

export const CLIENT_ERRORS = {
  TSWS_ERR_CLIENT_OPTIONS: error<ClientAt & { reason: string }>(
    (p) => `${at(p)}: cannot be opened: ${p.reason}`,
    'Give vhost.connect a ws://, wss:// or ws+unix:///path.sock:/path address, a timeoutMs above 0, and a reconnect policy with 0 < firstMs <= maxMs and jitter from 0 to 1.'),
  TSWS_ERR_CLIENT_REFUSED: error<ClientAt & { reason: string }>(
    (p) => `${at(p)}: refused (${p.reason})`,
    'Nothing listens at that address: start the server or fix the address. With a reconnect policy the framework keeps trying.'),
  TSWS_ERR_CLIENT_TIMEOUT: error<ClientAt & { ms: number }>(
    (p) => `${at(p)}: not established within ${p.ms} ms`,
    'The server took the connection but did not finish TLS or answer the upgrade: check that a websocket server listens there and is not overloaded, or raise timeoutMs.'),
  TSWS_ERR_CLIENT_TLS: error<ClientAt & { reason: string }>(
    (p) => `${at(p)}: TLS failed (${p.reason})`,
    'Trust the server\'s certificate (tls.ca), or fix its name or dates on the server; a wss:// address for a plain ws:// server fails this way too.'),
  TSWS_ERR_CLIENT_BAD_HANDSHAKE: error<ClientAt & { reason: string }>(
    (p) => `${at(p)}: the server did not accept the websocket upgrade (${p.reason})`,
    'A 404 names a wrong path, a 400 from tsws a subprotocol the vhost does not offer; a subprotocol other than the one asked is refused here. Check the URL and "protocol".'),
  TSWS_ERR_CLIENT_CLOSED: error<ClientAt & { when: string; reason: string }>(
    (p) => `${at(p)}: closed ${p.when} (${p.reason})`,
    'The server, or something between, hung up: see the server\'s log. With a reconnect policy the framework tries again.'),
  TSWS_ERR_CLIENT_UNREACHABLE: error<ClientAt & { reason: string }>(
    (p) => `${at(p)}: cannot connect (${p.reason})`,
    'The name does not resolve or there is no route to it: check the address and the network.'),
} as const;
