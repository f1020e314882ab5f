/**
 * @module The conformance suite's plugin: every vhost.channels operation as a JSON command over a
 * websocket, and every delivery, reply and presence event back as JSON (one write per writable).
 */
import { definePlugin, defineProtocol, type Channel, type ChannelOptions, type Conn } from '../../server/plugin/api.ts';

interface Session {
  out: string[];
  /** Presence watches of this connection: stopped when it closes. */
  stops: (() => void)[];
}

/** A command: `id` comes back on its reply. */
interface Command {
  readonly id: number;
  readonly op: string;
  readonly ch?: string;
  readonly history?: ChannelOptions['history'];
  readonly since?: { epoch: string; offset: number };
  readonly limit?: number;
  readonly data?: string;
  readonly info?: unknown;
}

const send = (conn: Conn<unknown, Session>, m: unknown) => {
  conn.session.out.push(JSON.stringify(m));
  conn.requestWritable();
};

async function run(conn: Conn<unknown, Session>, c: Command): Promise<unknown> {
  if (c.op === 'thread') return { thread: conn.vhost.server.thread.index };
  const channel: Channel = conn.vhost.channels.channel(c.ch as string, c.history === undefined ? undefined : { history: c.history });
  switch (c.op) {
    case 'publish':
      return channel.publish(c.data ?? '');
    case 'position':
      return channel.position();
    case 'subscribe':
      return channel.subscribe(conn, c.since);
    case 'unsubscribe':
      channel.unsubscribe(conn);
      return {};
    case 'history': {
      const h = await channel.history({ ...(c.since ? { since: c.since } : {}), ...(c.limit !== undefined ? { limit: c.limit } : {}) });
      return { ...h, messages: h.messages.map((m) => ({ epoch: m.epoch, offset: m.offset, data: String(m.data), time: m.time })) };
    }
    case 'join':
      return channel.presence.join(conn, c.info);
    case 'leave':
      await channel.presence.leave(conn);
      return {};
    case 'list':
      return channel.presence.list();
    case 'watch':
      conn.session.stops.push(channel.presence.onChange((e) => send(conn, { ev: 'presence', ch: c.ch, type: e.type, member: e.member })));
      return {};
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

export default definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol<undefined, Session>({
      name: 'chprobe',
      session: () => ({ out: [], stops: [] }),
      callbacks: {
        receive(conn, data) {
          const c = JSON.parse(data.toString()) as Command;
          run(conn, c).then(
            (value) => send(conn, { id: c.id, value }),
            (err: { code?: string; message?: string }) => send(conn, { id: c.id, error: err.code ?? err.message }),
          );
        },
        writable(conn) {
          const reply = conn.session.out.shift();
          if (reply !== undefined) conn.write(reply);
          else {
            const m = conn.nextPublished();
            if (m?.channel) conn.write(JSON.stringify({ ev: 'msg', ch: m.channel.name, topic: m.topic, epoch: m.channel.epoch, offset: m.channel.offset, time: m.channel.time, data: String(m.data) }));
          }
          if (conn.session.out.length > 0 || conn.publishedPending > 0) conn.requestWritable();
        },
        closed(conn) {
          for (const stop of conn.session.stops) stop();
        },
      },
    }),
  ],
});
