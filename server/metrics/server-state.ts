/** @module Process-wide operating state: start time, draining (for the health endpoint), reloads, and the counters. */
import { Counters } from './counters.ts';
import { newChannelStats } from './channel-stats.ts';

/**
 * One per process (TswsServer.state); a reload keeps it, so counting goes on
 * where the previous configuration stopped.
 *
 * The lifecycle code (main.ts: signals) drives it:
 * - `startDraining()` when SIGTERM/SIGINT arrives, before listeners stop: from
 *   then on every health path answers 503, so a load balancer still probing
 *   (on keep-alive connections, or while listeners are still open) takes the
 *   task out of rotation instead of sending it new clients.
 * - `reloaded(true)` after a SIGHUP reload serves the new configuration,
 *   `reloaded(false)` when it was refused and the running one kept.
 */
export class ServerState {
  /** Milliseconds since the epoch. */
  readonly startedAt = Date.now();
  readonly counters = new Counters();
  /** vhost.channels: publications, recoveries, presence members (this thread's). */
  readonly channels = newChannelStats();
  #draining = false;
  /** Times accepting stopped near the open-file limit (server/ingress/fd-guard.ts), and whether it is stopped now. */
  acceptPauses = 0;
  acceptPaused = false;
  #reloads = 0;
  #reloadFailures = 0;
  /** Times the watchdog interrupted a callback of this thread (server/threads/watchdog.ts). */
  watchdogInterrupts = 0;

  /** True once the server is stopping: health paths answer 503. */
  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }

  /** Successful reloads since start. */
  get reloads(): number {
    return this.#reloads;
  }

  /** Reloads refused (invalid config, a plugin that failed to load): the running configuration was kept. */
  get reloadFailures(): number {
    return this.#reloadFailures;
  }

  reloaded(ok: boolean): void {
    if (ok) this.#reloads++;
    else this.#reloadFailures++;
  }
}
