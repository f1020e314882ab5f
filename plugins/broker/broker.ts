/** @module broker: typed messages from logged-in clients, handled by external handler programs, delivered to clients here or on peer servers (see README.md). */
import { definePlugin } from '../../server/plugin/api.ts';
import { parseHandlerAddress, parseHandlerMap, parsePeers } from './addresses.ts';
import { BrokerClient } from './client.ts';
import { Hub } from './hub.ts';
import { SERVER_NAME } from './names.ts';
import { PeerInbound } from './peer-inbound.ts';
import { PEER_PROTOCOL } from './peer-wire.ts';
import { PROTOCOL } from './wire.ts';

/** Exported for the README test, which holds the options table to it. */
export const options = {
  'server-name': { type: 'string', default: 'local', doc: 'This server\'s name: in "message" deliveries, in requests to handlers, and for its peers (unique in a federation).' },
  handlers: { type: 'string', default: '', doc: 'Message types and their handlers: "type=unix:<socket>" or "type=exec:<command> [args]" entries separated by ";".' },
  'users-file': { type: 'string', default: '', doc: 'A file of "user:password" lines (# comments), re-read when it changes; relative to the working directory.' },
  'auth-handler': { type: 'string', default: '', doc: 'A handler address (unix:... or exec:...) asked about each login instead of a users file.' },
  'handler-timeout-secs': { type: 'int', default: 10, min: 1, max: 3600, doc: 'How long a handler has to answer a request; then the client gets "handler-timeout".' },
  'max-hops': { type: 'int', default: 8, min: 1, max: 64, doc: 'Handlers one message may go through (sendHandler chains); past it the client gets "hop-limit".' },
  'max-pending': { type: 'int', default: 64, min: 1, max: 10_000, doc: 'Messages one client may have in its handlers at once; more get "busy".' },
  peers: { type: 'string', default: '', doc: 'Peer servers this one links to: "name=ws://host:port/" (or ws+unix:///path:/) entries separated by commas.' },
  'peer-secret': { type: 'string', default: '', doc: 'The secret every server of the federation shares; required with "peers", and to accept links from peers.' },
} as const;

/**
 * The plugin's state on a vhost, shared by its two protocols: the peer
 * links' broker-peer connections deliver to the hub the lws-broker protocol
 * made there. A reload makes a new one (nothing is handed over: the new hub
 * takes the users map through its own init's `previous`), so generations
 * never mix.
 */
interface Federation {
  hub: Hub | undefined;
}

export default definePlugin({
  apiVersion: 2,
  name: 'broker',
  init: (): Federation => ({ hub: undefined }),
  protocols: (protocol) => [
    protocol({
      name: PROTOCOL,
      // Client messages are at most 1 MiB (README "Limits and choices"), below the vhost's 16 MiB default.
      maxMessageSize: 1024 * 1024,
      options,
      init(vhost, opts, previous): Hub {
        // Logged-in users, handlers and peer links live in one thread's memory: a user on another thread would be unreachable.
        if (vhost.server.thread.count > 1) throw new Error('the broker keeps its users and links in one thread: run it with count-threads 1');
        const server = opts['server-name'];
        if (!SERVER_NAME.test(server)) throw new Error(`option "server-name": "${server}" must be 1-63 letters, digits, "_", "." or "-"`);
        const hub = new Hub(vhost, {
          server,
          handlers: parseHandlerMap(opts.handlers),
          usersFile: opts['users-file'],
          authHandler: opts['auth-handler'] === '' ? undefined : parseHandlerAddress(opts['auth-handler']),
          peers: parsePeers(opts.peers, server),
          secret: opts['peer-secret'],
          timeoutMs: opts['handler-timeout-secs'] * 1000,
          maxHops: opts['max-hops'],
          maxPending: opts['max-pending'],
          users: previous?.users,
        });
        vhost.plugin.hub = hub;
        return hub;
      },
      // At a stop or, after a reload, once this configuration's last client left: its handlers and
      // links go; the users map stays with the successor (it only holds users of open connections).
      async destroy(vhost) {
        if (vhost.plugin.hub === vhost.state) vhost.plugin.hub = undefined;
        await vhost.state.close();
      },
      // Each client connection is a BrokerClient: its methods are the connection's callbacks.
      websocket: { connection: (conn) => new BrokerClient(conn, conn.vhost.state) },
    }),
    protocol({
      name: PEER_PROTOCOL,
      // A delivery carries a handler's payload (a reply line is at most 2 MiB) and its envelope.
      maxMessageSize: 4 * 1024 * 1024,
      websocket: { connection: (conn) => new PeerInbound(conn, () => conn.vhost.plugin.hub, conn.vhost.log) },
    }),
  ],
});
