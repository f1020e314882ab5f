/** @module broker: typed messages from logged-in clients, handled by external handler programs, delivered to clients here or on peer servers (see README.md). */
import { defineProtocol, definePlugin } from '../../server/plugin/api.ts';
import { parseHandlerAddress, parseHandlerMap, parsePeers } from './addresses.ts';
import { BrokerClient } from './client.ts';
import { Hub } from './hub.ts';
import { SERVER_NAME } from './names.ts';
import { PeerInbound } from './peer-inbound.ts';
import { PEER_PROTOCOL } from './peer-wire.ts';
import { PROTOCOL } from './wire.ts';

const options = {
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
 * The broker of each vhost, for the broker-peer links of the same vhost:
 * both protocols come from this one module, so a reload (which imports it
 * afresh) gets a map of its own and never mixes generations.
 */
const hubs = new Map<string, Hub>();

interface ClientSession {
  client: BrokerClient | undefined;
}

interface PeerSession {
  link: PeerInbound | undefined;
}

export default definePlugin({
  apiVersion: 1,
  name: 'broker',
  protocols: [
    defineProtocol<Hub, ClientSession, typeof options>({
      name: PROTOCOL,
      // Client messages are at most 1 MiB (README "Limits and choices"), below the vhost's 16 MiB default.
      maxMessageSize: 1024 * 1024,
      options,
      session: () => ({ client: undefined }),
      callbacks: {
        init(vhost, opts, previous) {
          // Logged-in users, handlers and peer links live in one thread's memory: a user on another thread would be unreachable.
          if (vhost.server.thread.count > 1) throw new Error('the broker keeps its users and links in one thread: run it with count-threads 1');
          const server = opts['server-name'];
          if (!SERVER_NAME.test(server)) throw new Error(`option "server-name": "${server}" must be 1-63 letters, digits, "_", "." or "-"`);
          if (hubs.has(vhost.vhostName)) throw new Error(`another vhost named "${vhost.vhostName}" has a broker already (broker-peer links find their broker by vhost name)`);
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
          hubs.set(vhost.vhostName, hub);
          return hub;
        },
        established(conn) {
          const client = new BrokerClient(conn, conn.vhost.state);
          conn.session.client = client;
          client.established();
        },
        receive(conn, data, isBinary) {
          conn.session.client?.receive(data, isBinary);
        },
        writable(conn) {
          conn.session.client?.writable();
        },
        closed(conn) {
          conn.session.client?.closed();
        },
        // At a stop or, after a reload, once this configuration's last client left: its handlers and
        // links go; the users map stays with the successor (it only holds users of open connections).
        async destroy(vhost) {
          if (hubs.get(vhost.vhostName) === vhost.state) hubs.delete(vhost.vhostName);
          await vhost.state.close();
        },
      },
    }),
    defineProtocol<undefined, PeerSession>({
      name: PEER_PROTOCOL,
      // A delivery carries a handler's payload (a reply line is at most 2 MiB) and its envelope.
      maxMessageSize: 4 * 1024 * 1024,
      session: () => ({ link: undefined }),
      callbacks: {
        established(conn) {
          const link = new PeerInbound(conn, () => hubs.get(conn.vhost.vhostName), conn.vhost.log);
          conn.session.link = link;
          link.established();
        },
        receive(conn, data, isBinary) {
          conn.session.link?.receive(data, isBinary);
        },
        writable(conn) {
          conn.session.link?.writable();
        },
        closed(conn, code) {
          conn.session.link?.closed(code);
        },
      },
    }),
  ],
});
