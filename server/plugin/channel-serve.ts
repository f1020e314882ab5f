/**
 * @module `channelFrames` (tsws/plugin/runtime): serves the channel frames tsws/client speaks on a
 * plugin's connections. The plugin calls it from receive (subscribe, unsubscribe, publish, token),
 * writable (the next frame to write, one per writable) and closed; it decides which channels a
 * connection may use and whether it may publish.
 */
import { describeError, isTswsError, tswsError, type ErrorCode, type ErrorParams } from '../base/errors.ts';
import type { Channel, ChannelSubscription } from './api-channels.ts';
import type { Conn } from './api-handles.ts';
import type { Published } from './api-request.ts';
import { readClientFrame } from './channel-frame-read.ts';
import type { ClientFrame, ServerFrame } from './channel-frames.ts';

export interface ChannelFramesOptions<C extends Conn> {
  /**
   * The channel this connection may use under `name` (usually
   * `conn.vhost.channels.channel(name, { history })`), or undefined: the
   * subscribe or publish is refused with TSWS_ERR_CHANNEL_DENIED.
   */
  channel(conn: C, name: string): Channel | undefined;
  /** Whether this connection may publish `data` there. Without it no client publishes: that is opt-in. */
  mayPublish?(conn: C, channel: Channel, data: unknown): boolean;
  /** The info a connection joins a channel's presence with when it subscribes (undefined: it does not join). */
  presenceInfo?(conn: C, channel: Channel): unknown;
  /** A `token` frame (a refreshed credential). Without it a token frame is answered TSWS_ERR_CHANNEL_FRAME. */
  token?(conn: C, token: string): void;
  /**
   * Channels one connection may be subscribed to at once (default 128, as
   * Centrifugo's client_channel_limit): each costs a follower, maybe a
   * presence member and, in a cluster, Redis work, so a client must not take
   * without bound. One more is refused with TSWS_ERR_CHANNEL_LIMIT.
   */
  maxChannels?: number;
}

const DEFAULT_MAX_CHANNELS = 128;

export interface ChannelFrames<C extends Conn> {
  /** From `receive`: true when `data` was a channel frame (served, or answered with an error frame); false when it is the protocol's own. */
  receive(conn: C, data: Buffer | string, isBinary?: boolean): boolean;
  /**
   * From `writable`: the next channel frame to write, or a publication of the
   * plugin's own topics (not a channel) for the plugin to write its own way,
   * or undefined. One call, at most one write.
   */
  next(conn: C): string | Published | undefined;
  /**
   * From `writable`, when the plugin writes publications as they came: `next`
   * and its one write (a frame as text, a publication with its own
   * binary flag). True when it wrote, false when nothing was waiting (the
   * writable is the plugin's own to use).
   */
  writeNext(conn: C): boolean;
  /** From `closed`: stops the connection's presence listeners and forgets it. */
  closed(conn: C): void;
  /**
   * The server ends a connection's subscription itself (the plugin's own
   * reason: a chat member left its room): as the client's unsubscribe frame,
   * and the client is told with an `unsubscribed` frame.
   */
  unsubscribe(conn: C, channel: string): void;
}

/** One channel as one connection uses it. 'pending': its `subscribed` is not written yet, so its messages wait behind it. */
interface Use {
  /** The name the client subscribed with: the use's key in ConnState.uses. */
  readonly key: string;
  readonly channel: Channel;
  state: 'pending' | 'live' | 'gone';
  readonly held: (string | Published)[];
  stopPresence: (() => void) | undefined;
  /** Joined the channel's presence on subscribe: left on unsubscribe (a close leaves by itself). */
  joined: boolean;
}

interface ConnState {
  /**
   * By channel name. A dropped use stays as a 'gone' tombstone while
   * publications may still wait in the connection's inbox (so they are
   * skipped, not handed to the plugin as its own), and is forgotten once the
   * inbox is empty.
   */
  readonly uses: Map<string, Use>;
  /** Uses in `uses` that are pending or live: what maxChannels bounds. */
  active: number;
  /** Frames ready to write, oldest first. */
  readonly out: string[];
  /** What `out` and every use's `held` keep for this connection, in items and bytes: the slow-consumer bound is on these. */
  items: number;
  bytes: number;
}

const framesOf = new WeakMap<Published, string>();

/**
 * A channel publication as its `message` frame. Channel data is JSON: what a
 * client publishes through the helper always is; text a plugin published
 * itself that is not JSON (or bytes) goes as a JSON string of its UTF-8 text.
 * Made once per publication, whatever the number of subscribers here.
 */
export function messageFrame(p: Published): string | undefined {
  const c = p.channel;
  if (c === undefined) return undefined;
  const cached = framesOf.get(p);
  if (cached !== undefined) return cached;
  const text = typeof p.data === 'string' ? p.data : p.data.toString('utf8');
  let data: string;
  try {
    JSON.parse(text);
    data = text;
  } catch {
    data = JSON.stringify(text);
  }
  const frame = `{"ch":"message","channel":${JSON.stringify(c.name)},"epoch":${JSON.stringify(c.epoch)},"offset":${c.offset},"time":${c.time},"data":${data}}`;
  framesOf.set(p, frame);
  return frame;
}

/** A store failure as its error frame: a cluster whose Redis is away is 'unavailable' (a client tries again), anything else 'failed'. */
const failureFrame = (err: unknown, channel: string, action: 'subscribe to' | 'publish to', at: { channel?: string; ref?: string }): ServerFrame =>
  isTswsError(err) && err.code === 'TSWS_ERR_CLUSTER_UNAVAILABLE'
    ? errorFrame('TSWS_ERR_CHANNEL_UNAVAILABLE', { channel, action }, at)
    : errorFrame('TSWS_ERR_CHANNEL_FAILED', { channel, action, reason: describeError(err) }, at);

const errorFrame = <K extends ErrorCode>(code: K, params: ErrorParams<K>, at: { channel?: string; ref?: string } = {}): ServerFrame => ({ ch: 'error', ...at, code, message: tswsError(code, params).message });

export function channelFrames<C extends Conn = Conn>(opts: ChannelFramesOptions<C>): ChannelFrames<C> {
  const maxChannels = opts.maxChannels ?? DEFAULT_MAX_CHANNELS;
  const states = new WeakMap<C, ConnState>();
  const stateOf = (conn: C): ConnState => {
    let st = states.get(conn);
    if (!st) states.set(conn, (st = { uses: new Map(), active: 0, out: [], items: 0, bytes: 0 }));
    return st;
  };

  /**
   * Keeps an item for the connection under the protocol's slow-consumer bound
   * (its `inbox`, the one its publications are held to). Frames answer the
   * client's own requests, and a client that sends them without reading the
   * answers would otherwise make the server hold them for as long as it keeps
   * the socket open. As the inbox does (session/slow-consumer.ts): past the
   * bound with the socket still holding unsent bytes, or past four times the
   * bound whatever, the connection is closed 1008 "slow consumer". Never
   * 'drop-oldest' here: a dropped answer is a publish or subscribe the client
   * waits on for ever. False when the connection was closed instead.
   */
  const keep = (conn: C, st: ConnState, into: (string | Published)[], item: string | Published): boolean => {
    into.push(item);
    st.items++;
    st.bytes += typeof item === 'string' ? item.length : item.data.length;
    const b = conn.vhost.inbox;
    const over = (k: number) => st.items > k * b.maxMessages || st.bytes > k * b.maxBytes;
    if (!over(1) || (!over(4) && conn.bufferedAmount === 0)) return true;
    const e = tswsError('TSWS_ERR_CHANNEL_FRAMES_UNREAD', { protocol: conn.protocol, frames: st.items, bytes: st.bytes });
    conn.vhost.log.warn({ code: e.code, conn: conn.id, peer: conn.request.peer }, e.message);
    forget(conn, st);
    conn.close(e.closeCode ?? 1008, 'slow consumer');
    return false;
  };
  /** Taken off `out` or a `held` list without being kept elsewhere (written, or the use dropped). */
  const release = (st: ConnState, item: string | Published | undefined): void => {
    if (item === undefined) return;
    st.items--;
    st.bytes -= typeof item === 'string' ? item.length : item.data.length;
  };
  const send = (conn: C, frame: ServerFrame): void => {
    // A closed connection takes nothing: kept, it would only wait for the garbage collector.
    if (!conn.isOpen) return;
    if (keep(conn, stateOf(conn), stateOf(conn).out, JSON.stringify(frame))) conn.requestWritable();
  };
  /** A policy that throws is the plugin's bug: logged, and the client told, never thrown into the transport. */
  const policy = <T>(conn: C, what: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      conn.vhost.log.error({ err, protocol: conn.protocol }, `channelFrames: the plugin's ${what} threw`);
      return undefined;
    }
  };

  /**
   * The plugin's channel for this name, or undefined with the client told
   * why: refused by the policy, or a name vhost.channels cannot take (a coded
   * error about the client's input, answered and not logged: a client could
   * fill the log with them).
   */
  function channelFor(conn: C, name: string, action: 'subscribe to' | 'publish to', at: { channel: string; ref?: string }): Channel | undefined {
    let channel: Channel | undefined;
    try {
      channel = opts.channel(conn, name);
    } catch (err) {
      if (isTswsError(err)) send(conn, { ch: 'error', ...at, code: err.code, message: err.message });
      else {
        conn.vhost.log.error({ err, protocol: conn.protocol }, "channelFrames: the plugin's channel policy threw");
        send(conn, errorFrame('TSWS_ERR_CHANNEL_FAILED', { channel: name, action, reason: describeError(err) }, at));
      }
      return undefined;
    }
    if (!channel) send(conn, errorFrame('TSWS_ERR_CHANNEL_DENIED', { channel: name, action }, at));
    return channel;
  }

  function drop(conn: C, use: Use): void {
    use.state = 'gone';
    const st = states.get(conn);
    if (st) {
      st.active--;
      for (const item of use.held) release(st, item);
      if (conn.publishedPending === 0 && st.uses.get(use.key) === use) st.uses.delete(use.key);
    }
    use.held.length = 0;
    use.stopPresence?.();
    use.stopPresence = undefined;
    if (use.joined && conn.isOpen) use.channel.presence.leave(conn).catch((err: unknown) => conn.vhost.log.warn({ err, channel: use.channel.name }, 'channelFrames: presence leave failed'));
    use.joined = false;
    try {
      use.channel.unsubscribe(conn);
    } catch (err) {
      conn.vhost.log.warn({ err, channel: use.channel.name }, 'channelFrames: unsubscribe failed');
    }
  }

  async function subscribed(conn: C, use: Use, sub: ChannelSubscription, presence: boolean): Promise<ServerFrame | undefined> {
    const { channel } = use;
    const r = sub.recovery;
    const base = { ch: 'subscribed', channel: channel.name, epoch: sub.position.epoch, offset: sub.position.offset, ...(r ? { recovered: r.recovered } : {}), ...(r && !r.recovered ? { reason: r.reason } : {}) } as const;
    const info = opts.presenceInfo ? policy(conn, 'presenceInfo', () => opts.presenceInfo?.(conn, channel)) : undefined;
    if (info !== undefined) {
      await channel.presence.join(conn, info);
      // Unsubscribed while joining: that drop found nothing joined to leave, so leave now (unless a newer
      // subscribe of the same channel holds the membership: it joins by itself, and leaves when it ends).
      if (use.state !== 'pending') {
        const newer = [...(states.get(conn)?.uses.values() ?? [])].some((u) => u !== use && u.state !== 'gone' && u.channel.name === channel.name);
        if (conn.isOpen && !newer) await channel.presence.leave(conn);
        return undefined;
      }
      use.joined = true;
    }
    if (!presence) return base;
    // Listen before listing, so no change falls between; one seen twice is harmless (members are replaced by id).
    use.stopPresence = channel.presence.onChange((ev) => {
      const frame = JSON.stringify({ ch: 'presence', channel: channel.name, event: ev.type, member: ev.member } satisfies ServerFrame);
      if (!conn.isOpen) return;
      if (use.state === 'pending') keep(conn, stateOf(conn), use.held, frame);
      else if (use.state === 'live' && keep(conn, stateOf(conn), stateOf(conn).out, frame)) conn.requestWritable();
    });
    return { ...base, members: await channel.presence.list() };
  }

  /** Lets go of everything the connection had here: its uses end, its frames are forgotten. */
  function forget(conn: C, st: ConnState): void {
    for (const use of st.uses.values()) if (use.state !== 'gone') drop(conn, use);
    st.out.length = 0;
    st.items = 0;
    st.bytes = 0;
    states.delete(conn);
  }

  function subscribe(conn: C, st: ConnState, f: ClientFrame & { ch: 'subscribe' }): void {
    const before = st.uses.get(f.channel);
    const again = before !== undefined && before.state !== 'gone';
    // Checked before the policy is asked: a refused name must not make a channel.
    if (!again && st.active >= maxChannels) return send(conn, errorFrame('TSWS_ERR_CHANNEL_LIMIT', { channel: f.channel, limit: maxChannels }, { channel: f.channel }));
    const channel = channelFor(conn, f.channel, 'subscribe to', { channel: f.channel });
    if (!channel) return;
    if (again) drop(conn, before); // a second subscribe starts over; the client drops what it already had
    const use: Use = { key: f.channel, channel, state: 'pending', held: [], stopPresence: undefined, joined: false };
    st.uses.set(f.channel, use);
    st.active++;
    channel.subscribe(conn, f.since)
      .then((sub) => (use.state === 'pending' ? subscribed(conn, use, sub, f.presence === true) : undefined))
      .then((frame) => {
        if (!frame || use.state !== 'pending' || !conn.isOpen) return;
        use.state = 'live';
        if (!keep(conn, st, st.out, JSON.stringify(frame))) return;
        for (const item of use.held.splice(0)) {
          release(st, item);
          const text = typeof item === 'string' ? item : messageFrame(item);
          if (text !== undefined && !keep(conn, st, st.out, text)) return;
        }
        conn.requestWritable();
      })
      .catch((err: unknown) => {
        if (use.state !== 'pending') return;
        drop(conn, use);
        conn.vhost.log.warn({ err, channel: f.channel }, 'channelFrames: subscribe failed');
        if (conn.isOpen) send(conn, failureFrame(err, f.channel, 'subscribe to', { channel: f.channel }));
      });
  }

  function publish(conn: C, f: ClientFrame & { ch: 'publish' }): void {
    const at = { channel: f.channel, ...(f.ref !== undefined ? { ref: f.ref } : {}) };
    const channel = channelFor(conn, f.channel, 'publish to', at);
    if (!channel) return;
    if (policy(conn, 'mayPublish', () => opts.mayPublish?.(conn, channel, f.data)) !== true) return send(conn, errorFrame('TSWS_ERR_CHANNEL_DENIED', { channel: f.channel, action: 'publish to' }, at));
    channel.publish(JSON.stringify(f.data)).then(
      (pos) => conn.isOpen && send(conn, { ch: 'published', ...at, epoch: pos.epoch, offset: pos.offset }),
      (err: unknown) => {
        conn.vhost.log.warn({ err, channel: f.channel }, 'channelFrames: publish failed');
        if (conn.isOpen) send(conn, failureFrame(err, f.channel, 'publish to', at));
      },
    );
  }

  return {
    receive(conn, data, isBinary = false) {
      if (isBinary) return false;
      const read = readClientFrame(data);
      if (read === undefined) return false;
      if ('bad' in read) {
        send(conn, errorFrame('TSWS_ERR_CHANNEL_FRAME', { detail: read.bad }, { ...(read.channel ? { channel: read.channel } : {}), ...(read.ref ? { ref: read.ref } : {}) }));
        return true;
      }
      const f = read.frame;
      const st = stateOf(conn);
      switch (f.ch) {
        case 'subscribe':
          subscribe(conn, st, f);
          break;
        case 'unsubscribe': {
          const use = st.uses.get(f.channel);
          if (use && use.state !== 'gone') drop(conn, use);
          send(conn, { ch: 'unsubscribed', channel: f.channel });
          break;
        }
        case 'publish':
          publish(conn, f);
          break;
        case 'token':
          if (opts.token) policy(conn, 'token', () => opts.token?.(conn, f.token));
          else send(conn, errorFrame('TSWS_ERR_CHANNEL_FRAME', { detail: 'this protocol takes no token frames' }));
          break;
        default: {
          const never: never = f;
          return never;
        }
      }
      return true;
    },

    next(conn) {
      const st = states.get(conn);
      if (st && st.out.length > 0) {
        const frame = st.out.shift();
        release(st, frame);
        if (st.out.length > 0) conn.requestWritable();
        return frame;
      }
      for (;;) {
        const p = conn.nextPublished();
        if (p === undefined) {
          // Nothing queued is left for a dropped use to stop: its tombstone can go.
          if (st && st.uses.size > st.active) for (const [name, use] of st.uses) if (use.state === 'gone') st.uses.delete(name);
          return undefined;
        }
        if (p.channel === undefined) return p;
        const use = st?.uses.get(p.channel.name);
        // Not subscribed through frames: the plugin subscribed the connection itself, and writes it its way.
        if (use === undefined) return p;
        if (use.state === 'pending') {
          if (st && !keep(conn, st, use.held, p)) return undefined;
        } else if (use.state === 'live') return messageFrame(p);
        // 'gone': queued before the unsubscribe; the client no longer wants it.
      }
    },

    writeNext(conn) {
      const next = this.next(conn);
      if (next === undefined) return false;
      if (typeof next === 'string') conn.write(next);
      else conn.write(next.data, next.isBinary);
      return true;
    },

    unsubscribe(conn, channel) {
      const use = states.get(conn)?.uses.get(channel);
      if (!use || use.state === 'gone') return;
      drop(conn, use);
      if (conn.isOpen) send(conn, { ch: 'unsubscribed', channel });
    },

    closed(conn) {
      const st = states.get(conn);
      if (st) forget(conn, st);
    },
  };
}
