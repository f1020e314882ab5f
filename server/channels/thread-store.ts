/** @module count-threads: a worker thread's channel store, a client of the one the main thread holds for every thread. */
import { tswsError, TswsError } from '../base/errors.ts';
import type { ChannelHistory, ChannelMessage, ChannelPosition, PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';
import { subscribeTo } from './local-store.ts';
import type { ChannelStore, StoredChannel } from './store.ts';
import type { ChannelNotice, ChannelPort, ChannelRequest, WireMessage } from './thread-messages.ts';

type Ask = ChannelRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The state is held once, by the main thread (server/threads/channel-host.ts):
 * it assigns every offset, so publishers on different threads never collide,
 * and it sends each publication to every thread in offset order. One port,
 * so FIFO: a publication the main thread handled before answering a read
 * reaches this thread before the answer, which is what subscribe's merge
 * needs (channel.ts). The port is given (workerData), never found.
 */
export class ThreadChannelStore implements ChannelStore {
  readonly #port: ChannelPort;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; op: string }>();
  readonly #followers = new Map<string, Set<(m: ChannelMessage) => void>>();
  readonly #watchers = new Map<string, Set<(e: PresenceEvent) => void>>();
  #seq = 0;
  #closed = false;

  constructor(port: ChannelPort) {
    this.#port = port;
    port.on('message', (m) => this.#heard(m as ChannelNotice));
    // Stopping is the server's business: a quiet port never holds the thread.
    port.unref();
  }

  async publish(channel: StoredChannel, data: Buffer | string, isBinary: boolean): Promise<ChannelMessage> {
    // A copy of just these bytes: cloning a pooled Buffer's view would copy its whole backing store.
    return this.#ask({ t: 'publish', channel, data: typeof data === 'string' ? data : new Uint8Array(data), isBinary }) as Promise<ChannelMessage>;
  }

  position(channel: StoredChannel): Promise<ChannelPosition> {
    return this.#ask({ t: 'position', channel }) as Promise<ChannelPosition>;
  }

  async read(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): Promise<ChannelHistory> {
    const h = (await this.#ask({ t: 'read', channel, since, limit })) as ChannelHistory;
    return { ...h, messages: h.messages.map(asBuffer) };
  }

  follow(channel: StoredChannel, deliver: (message: ChannelMessage) => void): () => void {
    // Told before any read that follows it (one port, FIFO): the main thread keeps the channel, and its epoch, meanwhile.
    if (!this.#followers.has(channel.key)) this.#tell({ t: 'follow', channel });
    const stop = subscribeTo(this.#followers, channel.key, deliver);
    return () => {
      stop();
      if (!this.#followers.has(channel.key)) this.#tell({ t: 'unfollow', channel });
    };
  }

  join(channel: StoredChannel, holderLocalId: string, info: unknown): Promise<PresenceMember> {
    return this.#ask({ t: 'join', channel, localId: holderLocalId, info }) as Promise<PresenceMember>;
  }

  async leave(channel: StoredChannel, holderLocalId: string): Promise<void> {
    await this.#ask({ t: 'leave', channel, localId: holderLocalId });
  }

  members(channel: StoredChannel): Promise<PresenceMember[]> {
    return this.#ask({ t: 'members', channel }) as Promise<PresenceMember[]>;
  }

  onPresence(channel: StoredChannel, fn: (event: PresenceEvent) => void): () => void {
    return subscribeTo(this.#watchers, channel.key, fn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#followers.clear();
    this.#watchers.clear();
    for (const w of this.#waiting.values()) w.reject(tswsError('TSWS_ERR_CHANNEL_THREADS', { op: w.op, reason: 'this thread is stopping' }));
    this.#waiting.clear();
    this.#port.close();
  }

  /** A request whose answer nobody waits for (a stopping thread's follows end with it). */
  #tell(request: Ask): void {
    if (!this.#closed) this.#ask(request).catch(() => undefined);
  }

  #ask(request: Ask): Promise<unknown> {
    if (this.#closed) return Promise.reject(tswsError('TSWS_ERR_CHANNEL_THREADS', { op: request.t, reason: 'this thread is stopping' }));
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, op: request.t });
      this.#port.postMessage({ ...request, id });
    });
  }

  #heard(m: ChannelNotice): void {
    switch (m.t) {
      case 'reply':
      case 'failed': {
        const w = this.#waiting.get(m.id);
        if (!w) return;
        this.#waiting.delete(m.id);
        if (m.t === 'reply') return w.resolve(m.value);
        // The main thread's store threw a coded error (none is expected): passed on as it was.
        return w.reject(Object.assign(new Error(m.message), { code: m.code }));
      }
      case 'message': {
        const followers = this.#followers.get(m.message.channel);
        if (!followers) return;
        const message = asBuffer(m.message);
        for (const f of followers) f(message);
        return;
      }
      case 'presence': {
        const watchers = this.#watchers.get(m.key);
        if (watchers) for (const w of watchers) w(m.event);
        return;
      }
      default: {
        const never: never = m;
        throw new TswsError('TSWS_ERR_CHANNEL_THREADS', { op: 'notice', reason: `unknown notice ${JSON.stringify(never)}` });
      }
    }
  }
}

/** Bytes arrive as a Uint8Array (structured clone): handed on as a Buffer, as everywhere else. */
function asBuffer(m: WireMessage): ChannelMessage {
  const d = m.data;
  return typeof d === 'string' || Buffer.isBuffer(d) ? (m as ChannelMessage) : { ...m, data: Buffer.from(d.buffer, d.byteOffset, d.byteLength) };
}
