/** @module Tells a subscriber that is behind from one that is stuck: no drain (nothing read by its peer) for STALL_MS. */
import { SYSTEM_CLOCK, type CancelTimer, type Clock } from '../base/clock.ts';

/** How long a member over its inbox bound may go without its peer reading anything (lws: 3 s) before it is closed as slow. */
export const STALL_MS = 3000;

/** The connection judged. */
export interface Stallable {
  /** Still over its bound and unable to write. */
  stalled(): boolean;
  closeAsSlow(): void;
}

export class StallWatch {
  readonly #clock: Clock;
  #drains = 0;
  #timer: CancelTimer | undefined;

  constructor(clock: Clock = SYSTEM_CLOCK) {
    this.#clock = clock;
  }

  /** The connection's socket drained: its peer read something. */
  drained(): void {
    this.#drains++;
  }

  /**
   * Starts judging (once: a running watch is kept). After STALL_MS, if the
   * member is still stalled, it is closed when nothing drained meanwhile; a
   * member that read something is watched again.
   */
  watch(conn: Stallable): void {
    if (this.#timer) return;
    const drains = this.#drains;
    this.#timer = this.#clock.timer(STALL_MS, () => {
      this.#timer = undefined;
      if (!conn.stalled()) return;
      if (this.#drains === drains) conn.closeAsSlow();
      else this.watch(conn);
    }, false);
  }

  cancel(): void {
    this.#timer?.();
    this.#timer = undefined;
  }
}
