/** @module count-threads: every thread shares its own server figures each second, so any thread's vhost.server.snapshot() covers them all. */
import { BroadcastChannel } from 'node:worker_threads';
import type { ThreadSnapshot } from '../plugin/api.ts';
import type { FiguresMesh } from '../ingress/server-view.ts';

/** Between two shares of a thread's figures. */
const SHARE_MS = 1000;
/** A thread silent this long (stopped, replaced, stuck) is left out of snapshots. */
const STALE_MS = 5000;

/**
 * snapshot() is synchronous (a status plugin calls it from a timer and
 * renders at once), so it cannot ask the other threads and wait as a
 * metrics scrape does (metrics-mesh.ts): each thread pushes its figures
 * instead, and a snapshot adds up the last ones heard. The cost is one
 * small message per thread per second.
 */
export class ThreadFiguresMesh implements FiguresMesh {
  readonly #channel: BroadcastChannel;
  readonly #index: number;
  readonly #heard = new Map<number, ThreadSnapshot>();
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, index: number) {
    this.#index = index;
    this.#channel = new BroadcastChannel(name);
    this.#channel.unref();
    this.#channel.onmessage = (event) => {
      const t = (event as { data: ThreadSnapshot }).data;
      if (t.index !== this.#index) this.#heard.set(t.index, t);
    };
  }

  join(own: () => ThreadSnapshot): void {
    const share = () => this.#channel.postMessage(own());
    share();
    this.#timer = setInterval(share, SHARE_MS);
    this.#timer.unref();
  }

  others(): readonly ThreadSnapshot[] {
    const fresh = Date.now() - STALE_MS;
    return [...this.#heard.values()].filter((t) => t.takenAt >= fresh).sort((a, b) => a.index - b.index);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#channel.close();
  }
}
