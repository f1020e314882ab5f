/** @module Delivery of a shared log's publications on one instance: each once, in id order, and what the subscription missed read back from the log. */

/** What a read of the log behind a topic gives: its epoch and last id now, and kept entries after the id asked (in that epoch). */
export interface LogRead {
  readonly epoch: string;
  readonly lastId: number;
  readonly entries: readonly { readonly id: number; readonly text: string }[];
}

/** Reads at most `count` kept entries with id > `after`, in the log's current epoch. */
export type LogReader = (after: number, count: number) => Promise<LogRead>;

export interface FollowerCounters {
  /** Publications delivered from the log after a gap: those missed, and any whose own copy was still on its way (then dropped as seen). */
  logRecovered: number;
  /** Publications missed that the log no longer kept: delivered around, the readers see the hole in the ids. */
  logUnrecovered: number;
}

interface Held {
  readonly epoch: string;
  readonly id: number;
  readonly body: string;
}

/** Entries per read while catching up: a burst to local subscribers is bounded per turn, whatever the log keeps. */
const PAGE = 500;

/**
 * Why this exists: Redis pub/sub delivers only to a subscription in place.
 * While this instance's subscriber connection is away (Redis restarted, the
 * connection was cut), another instance may append to a shared log, and its
 * publications never reach us; nothing would arrive, nothing would say so.
 * Every log publication carries its (epoch, id), so this instance knows the
 * last one it delivered. When the subscription is in place again, and when an
 * id skips ahead, it reads what it missed from the log and delivers that
 * first; live publications arriving meanwhile wait, then follow in order, and
 * ids already delivered are dropped. A new epoch (the log started again) is
 * read from its beginning. What the log no longer keeps cannot be read: it is
 * counted, and the readers see the hole in the ids.
 *
 * The position is the last publication delivered, so it starts with the
 * first one: reading the log's last id when subscribing would race with
 * publications still on their way (a member that joined got its history
 * from the log anyway).
 */
export class LogFollower {
  readonly #read: LogReader;
  readonly #deliver: (text: string) => void;
  readonly #counters: FollowerCounters;
  /** Entries per read: the log keeps no more than its maxLength (0: nothing to read back). */
  readonly #page: number;
  #pos: { epoch: string; id: number } | undefined;
  /** Set while reading the log: live publications wait here. */
  #held: Held[] | undefined;
  /** The subscription came back again during a catch-up: one more once it is done. */
  #again = false;

  constructor(read: LogReader, keep: number, deliver: (text: string) => void, counters: FollowerCounters) {
    this.#read = read;
    this.#page = Math.min(PAGE, keep);
    this.#deliver = deliver;
    this.#counters = counters;
  }

  /** A publication of the log arrived from Redis. */
  arrived(epoch: string, id: number, body: string): void {
    if (this.#held) {
      this.#held.push({ epoch, id, body });
      return;
    }
    const pos = this.#pos;
    if (pos && epoch === pos.epoch && id <= pos.id) return;
    if (!pos || id === this.#expected(epoch)) return this.#emit(epoch, id, body, false);
    // Publications before this one never came: read them first.
    this.#held = [{ epoch, id, body }];
    void this.#catchUp();
  }

  /** The subscription is in place at Redis again. */
  subscribed(): void {
    if (!this.#pos) return;
    if (this.#held) {
      this.#again = true;
      return;
    }
    this.#held = [];
    void this.#catchUp();
  }

  #expected(epoch: string): number {
    const pos = this.#pos;
    return pos && pos.epoch === epoch ? pos.id + 1 : 1;
  }

  #emit(epoch: string, id: number, text: string, fromLog: boolean): void {
    if (this.#pos && id > this.#expected(epoch)) this.#counters.logUnrecovered += id - this.#expected(epoch);
    if (fromLog) this.#counters.logRecovered++;
    this.#pos = { epoch, id };
    this.#deliver(text);
  }

  async #catchUp(): Promise<void> {
    try {
      if (this.#pos && this.#page > 0) await this.#readFrom(this.#pos);
    } catch {
      // Redis went again: what arrived is delivered as it is, and the next subscription tries again.
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const h of held) {
      const pos = this.#pos;
      if (pos && h.epoch === pos.epoch && h.id <= pos.id) continue;
      this.#emit(h.epoch, h.id, h.body, false);
    }
    if (this.#again) {
      this.#again = false;
      this.subscribed();
    }
  }

  async #readFrom(pos: { epoch: string; id: number }): Promise<void> {
    let after = pos.id;
    let r = await this.#read(after, this.#page);
    // The log started again since: all of the new epoch is new here.
    if (r.epoch !== pos.epoch) {
      after = 0;
      r = await this.#read(0, this.#page);
    }
    const epoch = r.epoch;
    for (;;) {
      for (const e of r.entries) {
        if (e.id <= after) continue;
        this.#emit(epoch, e.id, e.text, true);
        after = e.id;
      }
      if (r.entries.length < this.#page) return;
      r = await this.#read(after, this.#page);
      if (r.epoch !== epoch) return;
    }
  }
}
