/** @module The bus between the threads of one process (count-threads): a BroadcastChannel every thread joins. */
import { BroadcastChannel } from 'node:worker_threads';
import type { Bus, Deliver } from '../bus/bus.ts';

interface Publication {
  readonly topic: string;
  readonly data: Uint8Array | string;
  readonly isBinary: boolean;
}

/**
 * Local subscribers get a publication synchronously, as with the LocalBus;
 * the other threads get it through the channel, which keeps each sender's
 * order. Every publication goes to every thread (a thread that has no
 * subscriber for the topic drops it): the topic set is small and shared,
 * and a subscription table kept in step across threads would cost more
 * than the copies it saves.
 */
export class ThreadBus implements Bus {
  readonly #topics = new Map<string, Deliver>();
  readonly #channel: BroadcastChannel;

  constructor(name: string) {
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (event) => {
      const p = (event as { data: Publication }).data;
      const data = typeof p.data === 'string' ? p.data : Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      this.#topics.get(p.topic)?.(data, p.isBinary);
    };
    // A thread with nothing else to do must still be able to exit.
    this.#channel.unref();
  }

  publish(topic: string, data: Buffer | string, isBinary: boolean): void {
    this.#topics.get(topic)?.(data, isBinary);
    // A copy of just these bytes: cloning the view would copy its whole backing store (8 KiB for a pooled Buffer).
    const message: Publication = { topic, data: typeof data === 'string' ? data : new Uint8Array(data), isBinary };
    this.#channel.postMessage(message);
  }

  subscribe(topic: string, deliver: Deliver): void {
    this.#topics.set(topic, deliver);
  }

  unsubscribe(topic: string): void {
    this.#topics.delete(topic);
  }

  async close(): Promise<void> {
    this.#topics.clear();
    this.#channel.close();
  }
}
