/** @module A connection's published messages waiting for its writable: a FIFO bounded in messages and bytes. */
import type { Published } from '../plugin/api.ts';

export interface InboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** Slots an emptied inbox keeps for the next batch; past it the array is let go (a burst's backing store is not kept). */
const KEEP_SLOTS = 256;

/**
 * An array with a moving head and tail rather than push()/shift(): taking
 * the oldest is O(1). Emptied, head and tail go back to 0 and the slots
 * stay: a fan-out member fills and empties its inbox once per batch, and
 * truncating the array each time (length = 0) cost a runtime call and a
 * fresh backing store per member per batch (perf: SetLength,
 * GrowFastSmiOrObjectElements). Emptied slots hold undefined, so a sent
 * message is not kept alive by them.
 */
export class Inbox {
  #items: (Published | undefined)[] = [];
  #head = 0;
  #tail = 0;
  #bytes = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  push(msg: Published): void {
    const items = this.#items;
    if (this.#tail < items.length) items[this.#tail] = msg;
    else items.push(msg);
    this.#tail++;
    this.#bytes += msg.data.length;
  }

  shift(): Published | undefined {
    if (this.#head >= this.#tail) return undefined;
    const items = this.#items;
    const msg = items[this.#head] as Published;
    items[this.#head++] = undefined;
    this.#bytes -= msg.data.length;
    if (this.#head === this.#tail) {
      this.#head = 0;
      this.#tail = 0;
      if (items.length > KEEP_SLOTS) this.#items = [];
    } else if (this.#head >= KEEP_SLOTS && this.#head * 2 >= this.#tail) {
      // Never emptied (a member always behind): move the waiting ones to the front now and then.
      this.#items = items.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return msg;
  }

  /** Past `limits` times `factor` (1: the bound, 4: the hard cap). */
  over(limits: InboxLimits, factor = 1): boolean {
    return this.#tail - this.#head > factor * limits.maxMessages || this.#bytes > factor * limits.maxBytes;
  }
}
