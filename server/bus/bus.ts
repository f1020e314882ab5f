/** @module The publish/subscribe bus interface, and the in-process implementation that is the default. */

export type Deliver = (data: Buffer | string, isBinary: boolean) => void;

/**
 * Carries publications between everything that serves the same topic: this
 * process now, other threads and instances later (a Redis implementation
 * plugs in here). Contract: every subscriber of a topic, wherever it is,
 * receives each publication once, in the order its publisher published.
 * A process subscribes once per topic; fan-out to its connections is local.
 */
export interface Bus {
  publish(topic: string, data: Buffer | string, isBinary: boolean): void;
  subscribe(topic: string, deliver: Deliver): void;
  unsubscribe(topic: string): void;
  close(): Promise<void>;
}

/** Delivers synchronously within this process. */
export class LocalBus implements Bus {
  readonly #topics = new Map<string, Deliver>();

  publish(topic: string, data: Buffer | string, isBinary: boolean): void {
    this.#topics.get(topic)?.(data, isBinary);
  }

  subscribe(topic: string, deliver: Deliver): void {
    this.#topics.set(topic, deliver);
  }

  unsubscribe(topic: string): void {
    this.#topics.delete(topic);
  }

  async close(): Promise<void> {
    this.#topics.clear();
  }
}
