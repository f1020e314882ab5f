/** @module lws-status: tells every status client who is connected, whenever a status client comes or goes. */
import os from 'node:os';
import { defineProtocol, definePlugin, type ProtocolVhost } from '../../server/plugin/api.ts';
import pkg from '../../package.json' with { type: 'json' };

interface Entry {
  readonly peer: string;
  readonly time: string;
  readonly ua: string;
}

interface VhostState {
  /** Newest first, as lws keeps its list. */
  readonly clients: Map<number, Entry>;
  snapshot: string;
}

interface Session {
  /** The latest snapshot has not been sent to this client yet. */
  stale: boolean;
}

function render(clients: ReadonlyMap<number, Entry>): string {
  // lws sends every value as a string, in this order.
  return JSON.stringify({
    version: `tsws ${pkg.version}`,
    wss_over_h2: '0',
    hostname: os.hostname(),
    wsi: String(clients.size),
    conns: [...clients.values()].reverse(),
  });
}

export default definePlugin({
  apiVersion: 1,
  name: 'lws-status',
  protocols: [
    defineProtocol<VhostState, Session>({
      name: 'lws-status',
      rxBufferSize: 512,
      session: () => ({ stale: true }),
      callbacks: {
        init: () => ({ clients: new Map(), snapshot: render(new Map()) }),
        established(conn) {
          const st = conn.vhost.state;
          st.clients.set(conn.id, { peer: conn.request.peer, time: String(Math.floor(Date.now() / 1000)), ua: conn.request.headers['user-agent'] ?? 'unknown' });
          changed(conn.vhost);
        },
        closed(conn) {
          if (conn.vhost.state.clients.delete(conn.id)) changed(conn.vhost);
        },
        writable(conn) {
          // Several changes before one writable coalesce into the latest snapshot.
          if (!conn.session.stale) return;
          conn.session.stale = false;
          conn.write(conn.vhost.state.snapshot, false);
        },
      },
    }),
  ],
});

function changed(vhost: ProtocolVhost<VhostState, Session>): void {
  vhost.state.snapshot = render(vhost.state.clients);
  for (const c of vhost.connections()) {
    c.session.stale = true;
    c.requestWritable();
  }
}
