/** @module A connection's published messages waiting for its writable: a FIFO bounded in messages and bytes. */
import type { Published } from '../plugin/api.ts';

export interface InboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/**
 * An array with a moving head rather than shift(): taking the oldest is O(1),
 * and the array is reset once emptied so it does not grow for ever.
 */
export class Inbox {
  readonly #items: Published[] = [];
  #head = 0;
  #bytes = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(msg: Published): void {
    this.#items.push(msg);
    this.#bytes += msg.data.length;
  }

  shift(): Published | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    const msg = items[this.#head] as Published;
    items[this.#head++] = undefined as unknown as Published;
    this.#bytes -= msg.data.length;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    }
    return msg;
  }

  /** Past `limits` times `factor` (1: the bound, 4: the hard cap). */
  over(limits: InboxLimits, factor = 1): boolean {
    return this.size > factor * limits.maxMessages || this.#bytes > factor * limits.maxBytes;
  }
}
