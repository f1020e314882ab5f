/** @module count-threads: the main thread holds every channel once (a local store) and serves the worker threads' stores through their ports. */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { LocalChannelStore } from '../channels/local-store.ts';
import type { ChannelNotice, ChannelRequest } from '../channels/thread-messages.ts';

/**
 * Why the main thread: it runs no plugin code and outlives every worker, so
 * a thread that dies takes none of the channels' state with it, only its own
 * presence members, removed here at once with a leave event to the others.
 * Everything is synchronous inside one message handler, so offsets are
 * assigned in the order requests arrive and each publication is posted to
 * every worker before the next is taken.
 */
export class ChannelHost {
  readonly #ports = new Map<string, MessagePort>();
  /** Each worker's follows, by channel key: the store frees no channel a worker follows. */
  readonly #follows = new Map<string, Map<string, () => void>>();
  readonly #store: LocalChannelStore;
  readonly #log: Logger;

  constructor(log: Logger, idleMax?: number) {
    this.#log = log;
    this.#store = new LocalChannelStore({
      holder: 'main',
      ...(idleMax !== undefined ? { idleMax } : {}),
      sink: {
        publication: (_key, message) => this.#broadcast({ t: 'message', message: { ...message, data: typeof message.data === 'string' ? message.data : new Uint8Array(message.data) } }),
        presence: (key, event) => this.#broadcast({ t: 'presence', key, event }),
      },
    });
  }

  /** A port for the worker `holder` (its end goes in workerData, transferred). */
  connect(holder: string): MessagePort {
    this.#ports.get(holder)?.close();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: ChannelRequest) => this.#serve(holder, port1, m));
    port1.unref();
    this.#ports.set(holder, port1);
    return port2;
  }

  /** The worker is gone (exited, crashed, or replaced): its members leave now, and everyone is told. */
  disconnect(holder: string): void {
    this.#ports.get(holder)?.close();
    this.#ports.delete(holder);
    for (const stop of this.#follows.get(holder)?.values() ?? []) stop();
    this.#follows.delete(holder);
    const left = this.#store.dropHolder(holder);
    if (left > 0) this.#log.info({ event: 'channel-members-dropped', holder, members: left }, `channels: ${left} presence member(s) of ${holder} left with it`);
  }

  close(): void {
    for (const p of this.#ports.values()) p.close();
    this.#ports.clear();
  }

  #serve(holder: string, port: MessagePort, m: ChannelRequest): void {
    let value: unknown;
    try {
      value = this.#apply(holder, m);
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      return port.postMessage({ t: 'failed', id: m.id, code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? err) } satisfies ChannelNotice);
    }
    port.postMessage({ t: 'reply', id: m.id, value } satisfies ChannelNotice);
  }

  #apply(holder: string, m: ChannelRequest): unknown {
    const s = this.#store;
    switch (m.t) {
      case 'publish': {
        const data = typeof m.data === 'string' ? m.data : Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
        const message = s.publishNow(m.channel, data, m.isBinary);
        return { ...message, data: m.data };
      }
      case 'position':
        return s.readNow(m.channel, undefined, 0).position;
      case 'read': {
        const h = s.readNow(m.channel, m.since, m.limit);
        return { ...h, messages: h.messages.map((x) => ({ ...x, data: typeof x.data === 'string' ? x.data : new Uint8Array(x.data) })) };
      }
      case 'join':
        return s.joinAs(m.channel, holder, m.localId, m.info);
      case 'leave':
        return s.leaveAs(m.channel.key, `${holder}/${m.localId}`);
      case 'members':
        return s.membersNow(m.channel);
      case 'follow': {
        let mine = this.#follows.get(holder);
        if (!mine) this.#follows.set(holder, (mine = new Map()));
        // Publications reach the workers through the sink already: this follower only keeps the channel.
        if (!mine.has(m.channel.key)) mine.set(m.channel.key, s.follow(m.channel, () => undefined));
        return undefined;
      }
      case 'unfollow': {
        const mine = this.#follows.get(holder);
        mine?.get(m.channel.key)?.();
        mine?.delete(m.channel.key);
        return undefined;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown channel request ${JSON.stringify(never)}`);
      }
    }
  }

  #broadcast(notice: ChannelNotice): void {
    for (const p of this.#ports.values()) p.postMessage(notice);
  }
}
