/** @module A client connection's retries: the backoff between attempts and the one timer waiting for the next. */
import { Backoff } from './backoff.ts';
import type { ReconnectSettings } from './settings.ts';

/** What the plugin hears before a wait (lws-style CLIENT_RECONNECTING): which retry, after how long. */
export interface RetryPlan {
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Exists only for a connection that reconnects. The delay is counted when
 * the retry is planned, not when it starts, so the plugin's clientReconnecting
 * can tell how long the wait will be, and a close() it makes there drops the
 * wait before it was ever armed.
 */
export class Retries {
  readonly #backoff: Backoff;
  readonly #resetOnEstablished: boolean;
  #timer: NodeJS.Timeout | undefined;

  static of(settings: ReconnectSettings | undefined): Retries | undefined {
    return settings ? new Retries(settings) : undefined;
  }

  private constructor(settings: ReconnectSettings) {
    this.#backoff = new Backoff({ firstMs: settings.firstMs, maxMs: settings.maxMs, jitter: settings.jitter });
    this.#resetOnEstablished = settings.resetOn === 'established';
  }

  plan(): RetryPlan {
    const delayMs = this.#backoff.next();
    return { attempt: this.#backoff.attempt, delayMs };
  }

  /** Runs `attempt` once the planned delay is over; replaces a wait already armed. */
  wait(plan: RetryPlan, attempt: () => void): void {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, plan.delayMs);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The plugin's resetBackoff(): the next retry waits the first delay again. */
  reset(): void {
    this.#backoff.reset();
  }

  /** A connection came up: back to the first delay, unless the settings count from the first failure. */
  established(): void {
    if (this.#resetOnEstablished) this.#backoff.reset();
  }
}
