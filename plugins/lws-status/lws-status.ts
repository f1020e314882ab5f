/** @module lws-status: tells every status client who is connected, whenever a status client comes or goes. */
import os from 'node:os';
import { TSWS_VERSION, definePlugin, type Conn, type Presence, type ProtocolVhost } from '../../server/plugin/api.ts';

interface Entry {
  readonly peer: string;
  readonly time: string;
  readonly ua: string;
  /** In a cluster: the instance serving that client. */
  readonly instance?: string;
}

interface VhostState {
  /** Newest first, as lws keeps its list. Alone: every client; in a cluster: the last list read from Redis. */
  clients: Map<number | string, Entry>;
  snapshot: string;
  /** In a cluster: every instance's clients, one entry per client, held by its instance. */
  readonly shared: Presence | undefined;
  /** A read of the shared list is running / another one is wanted after it. */
  refreshing: boolean;
  again: boolean;
  /** onChange is registered with the first connection (it needs the vhost with its state). */
  listening: boolean;
  /** The status clients told of each change: alone, those of every configuration sharing this list (see init). */
  readonly watchers: Set<Conn<VhostState, Session>>;
}

interface Session {
  /** The latest snapshot has not been sent to this client yet. */
  stale: boolean;
}

function render(clients: ReadonlyMap<number | string, Entry>): string {
  // lws sends every value as a string, in this order.
  return JSON.stringify({
    version: `tsws ${TSWS_VERSION}`,
    wss_over_h2: '0',
    hostname: os.hostname(),
    wsi: String(clients.size),
    conns: [...clients.values()].reverse(),
  });
}

export default definePlugin({
  apiVersion: 2,
  name: 'lws-status',
  protocols: (protocol) => [
    protocol({
      name: 'lws-status',
      init(vhost, _opts, previous): VhostState {
        const shared = vhost.cluster?.presence('clients');
        if (!shared && vhost.server.thread.count > 1) vhost.log.warn('lws-status: with count-threads above 1 and no "cluster" block, each thread lists its own clients only');
        // After a reload the clients of both configurations are one list, and every one of them hears every change.
        if (previous && !previous.shared && !shared) return previous;
        return { clients: new Map(), snapshot: render(new Map()), shared, refreshing: false, again: false, listening: false, watchers: new Set() };
      },
      websocket: {
        session: () => ({ stale: true }),
        established(conn) {
          const st = conn.vhost.state;
          st.watchers.add(conn);
          const entry: Entry = { peer: conn.request.peer, time: String(Math.floor(Date.now() / 1000)), ua: conn.request.headers['user-agent'] ?? 'unknown' };
          if (!st.shared) {
            st.clients.set(conn.id, entry);
            return changed(st);
          }
          // Every instance hears of the change (this one too) and reads the list again.
          if (!st.listening) {
            st.listening = true;
            const vhost = conn.vhost;
            st.shared.onChange(() => refresh(vhost));
          }
          st.shared.put(keyOf(conn.vhost.cluster?.instanceId, conn.id), JSON.stringify(entry));
        },
        closed(conn) {
          const st = conn.vhost.state;
          st.watchers.delete(conn);
          if (!st.shared) {
            if (st.clients.delete(conn.id)) changed(st);
            return;
          }
          void st.shared.release(keyOf(conn.vhost.cluster?.instanceId, conn.id));
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

const keyOf = (instance: string | undefined, id: number): string => `${instance ?? ''}/${id}`;

/** Entries are written by this plugin on some instance; read them defensively all the same. */
function parseEntry(text: string, instance: string): Entry {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const fields = new Map<string, unknown>(typeof v === 'object' && v !== null ? Object.entries(v) : []);
  const field = (k: string) => {
    const x = fields.get(k);
    return typeof x === 'string' ? x : '';
  };
  return { peer: field('peer'), time: field('time'), ua: field('ua'), instance };
}

/**
 * Cluster: reads the shared list again after a change anywhere. Changes
 * arriving while a read runs are folded into one more read after it, so a
 * burst of connections costs two reads, not one per connection.
 */
function refresh(vhost: ProtocolVhost<VhostState>): void {
  const st = vhost.state;
  if (!st.shared) return;
  if (st.refreshing) {
    st.again = true;
    return;
  }
  st.refreshing = true;
  st.shared.list().then(
    (entries) => {
      st.clients = new Map(entries.map((e) => [e.key, parseEntry(e.value, e.instance)]));
      changed(st);
    },
    (err: unknown) => vhost.log.debug({ err }, 'lws-status: shared list unavailable; keeping the last one'),
  ).finally(() => {
    st.refreshing = false;
    if (st.again) {
      st.again = false;
      refresh(vhost);
    }
  });
}

function changed(st: VhostState): void {
  st.snapshot = render(st.clients);
  for (const c of st.watchers) {
    c.session.stale = true;
    c.requestWritable();
  }
}
