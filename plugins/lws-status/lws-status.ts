/** @module lws-status: tells every status client who is connected, whenever a status client comes or goes; the list is a channel's presence, so it spans threads and instances. */
import os from 'node:os';
import { TSWS_VERSION, definePlugin, type Channel, type Conn, type PresenceMember, type ProtocolVhost } from '../../server/plugin/api.ts';

interface Entry {
  readonly peer: string;
  readonly time: string;
  readonly ua: string;
  /** With count-threads or a cluster: the thread or instance serving that client (the presence member's holder). */
  readonly instance?: string;
}

interface VhostState {
  /** The list as last read from the presence, oldest first. */
  snapshot: string;
  /** A read of the list is running / another one is wanted after it. */
  refreshing: boolean;
  again: boolean;
  /** onChange is registered with the first connection (it needs the vhost with its state). */
  stopListening: (() => void) | undefined;
  /** This thread's status clients, told of each change. */
  readonly watchers: Set<Conn<VhostState, Session>>;
  /** Whether entries name their holder: only where there is more than one. */
  readonly named: boolean;
}

interface Session {
  /** The latest snapshot has not been sent to this client yet. */
  stale: boolean;
}

function render(conns: readonly Entry[]): string {
  // lws sends every value as a string, in this order, newest first.
  return JSON.stringify({
    version: `tsws ${TSWS_VERSION}`,
    wss_over_h2: '0',
    hostname: os.hostname(),
    wsi: String(conns.length),
    conns: [...conns].reverse(),
  });
}

/** One channel, no history: its presence is the list of status clients everywhere (docs/reference/channels.md). */
const clientsOf = (vhost: ProtocolVhost<VhostState>): Channel => vhost.channels.channel('clients');

export default definePlugin({
  apiVersion: 2,
  name: 'lws-status',
  protocols: (protocol) => [
    protocol({
      name: 'lws-status',
      init(vhost): VhostState {
        // After a reload the clients of both configurations are one list (the presence outlives the
        // generation); the old generation keeps telling its own clients until its destroy.
        return { snapshot: render([]), refreshing: false, again: false, stopListening: undefined, watchers: new Set(), named: vhost.cluster !== undefined || vhost.server.thread.count > 1 };
      },
      destroy(vhost) {
        vhost.state.stopListening?.();
      },
      websocket: {
        session: () => ({ stale: true }),
        established(conn) {
          const st = conn.vhost.state;
          st.watchers.add(conn);
          const vhost = conn.vhost;
          const channel = clientsOf(vhost);
          // Every thread and instance hears of the change (this one too) and reads the list again.
          st.stopListening ??= channel.presence.onChange(() => refresh(vhost));
          const entry: Entry = { peer: conn.request.peer, time: String(Math.floor(Date.now() / 1000)), ua: conn.request.headers['user-agent'] ?? 'unknown' };
          channel.presence.join(conn, entry).then(
            () => refresh(vhost),
            (err: unknown) => vhost.log.warn({ err }, 'lws-status: could not list this client (the channel store is away)'),
          );
        },
        closed(conn) {
          // The presence leaves by itself when the connection closes.
          conn.vhost.state.watchers.delete(conn);
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

/** Members were joined by this plugin on some thread or instance; read them defensively all the same. */
function entryOf(m: PresenceMember, named: boolean): Entry {
  const info = typeof m.info === 'object' && m.info !== null ? (m.info as Record<string, unknown>) : {};
  const field = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : '');
  return { peer: field('peer'), time: field('time'), ua: field('ua'), ...(named ? { instance: m.holder } : {}) };
}

/**
 * Reads the list again after a change anywhere. Changes arriving while a read
 * runs are folded into one more read after it, so a burst of connections
 * costs two reads, not one per connection.
 */
function refresh(vhost: ProtocolVhost<VhostState>): void {
  const st = vhost.state;
  if (st.refreshing) {
    st.again = true;
    return;
  }
  st.refreshing = true;
  clientsOf(vhost).presence.list().then(
    (members) => {
      st.snapshot = render(members.map((m) => entryOf(m, st.named)));
      for (const c of st.watchers) {
        c.session.stale = true;
        c.requestWritable();
      }
    },
    (err: unknown) => vhost.log.debug({ err }, 'lws-status: list unavailable; keeping the last one'),
  ).finally(() => {
    st.refreshing = false;
    if (st.again) {
      st.again = false;
      refresh(vhost);
    }
  });
}
