/** @module The bus between the threads of one process (count-threads): a BroadcastChannel every thread joins. */
import { BroadcastChannel } from 'node:worker_threads';
import { LocalBus } from '../bus/bus.ts';

interface Publication {
  readonly topic: string;
  readonly data: Uint8Array | string;
  readonly isBinary: boolean;
}

/**
 * Local subscribers get a publication synchronously, as with LocalBus;
 * the other threads get it through the channel, which keeps each sender's
 * order. Every publication goes to every thread (a thread that has no
 * subscriber for the topic drops it): the topic set is small and shared,
 * and a subscription table kept in step across threads would cost more
 * than the copies it saves.
 */
export class ThreadBus extends LocalBus {
  readonly #channel: BroadcastChannel;

  constructor(name: string) {
    super();
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (event) => {
      const p = (event as { data: Publication }).data;
      const data = typeof p.data === 'string' ? p.data : Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      super.publish(p.topic, data, p.isBinary);
    };
    // A thread with nothing else to do must still be able to exit.
    this.#channel.unref();
  }

  override publish(topic: string, data: Buffer | string, isBinary: boolean): void {
    super.publish(topic, data, isBinary);
    // A copy of just these bytes: cloning the view would copy its whole backing store (8 KiB for a pooled Buffer).
    const message: Publication = { topic, data: typeof data === 'string' ? data : new Uint8Array(data), isBinary };
    this.#channel.postMessage(message);
  }

  override async close(): Promise<void> {
    await super.close();
    this.#channel.close();
  }
}
