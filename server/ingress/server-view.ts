/** @module The read-only view of the whole server that plugins get as `vhost.server`: snapshots built from the counters. */
import os from 'node:os';
import type { ListenerInfo } from './listeners.ts';
import type { ProtocolSnapshot, ServerSnapshot, ServerView, TrafficCounts, VhostSnapshot } from '../plugin/api.ts';
import type { ServerState } from '../metrics/server-state.ts';
import type { Counters, HttpCounters, ProtocolCounters } from '../metrics/counters.ts';
import { VERSION } from '../base/version.ts';

/** The vhosts of one server generation and the protocols each serves, in config order. */
export interface ServedLayout {
  readonly vhosts: readonly { readonly name: string; readonly protocols: readonly string[] }[];
  readonly listeners: readonly ListenerInfo[];
}

function traffic(c: ProtocolCounters): TrafficCounts {
  return { connections: c.open, connectionsTotal: c.opened, messagesIn: c.messagesIn, messagesOut: c.messagesOut, bytesIn: c.bytesIn, bytesOut: c.bytesOut };
}

function responses(c: HttpCounters): number {
  let n = 0;
  for (const v of c.byStatus) n += v;
  return n;
}

/**
 * Built by the server, handed to every ProtocolHost. Figures come from the
 * process-wide counters (so they include connections still open on a previous
 * generation after a reload); the vhost and listener lists are this
 * generation's. Every call copies: a plugin cannot change what it is given.
 */
export class ServerFigures implements ServerView {
  readonly #state: ServerState;
  readonly #counters: Counters;
  readonly #layout: () => ServedLayout;
  readonly #instance: string | undefined;
  readonly #hostname = os.hostname();

  readonly thread: { readonly index: number; readonly count: number };

  constructor(state: ServerState, layout: () => ServedLayout, instance: string | undefined, thread = { index: 0, count: 1 }) {
    this.thread = thread;
    this.#state = state;
    this.#counters = state.counters;
    this.#layout = layout;
    this.#instance = instance;
  }

  snapshot(): ServerSnapshot {
    const layout = this.#layout();
    const totals = { connections: 0, connectionsTotal: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, httpRequests: 0 };
    const vhosts: VhostSnapshot[] = [];
    const seen = new Set<string>();
    for (const v of layout.vhosts) {
      // Vhosts of one name on several listeners share their counters: one entry.
      if (seen.has(v.name)) continue;
      seen.add(v.name);
      const protocols: ProtocolSnapshot[] = v.protocols.map((name) => ({ name, ...traffic(this.#counters.protocol(v.name, name)) }));
      const httpRequests = responses(this.#counters.http(v.name));
      vhosts.push({ name: v.name, protocols, httpRequests });
    }
    // Totals cover every counter of the process, a vhost a reload removed included, so rates never jump back.
    for (const [, , c] of this.#counters.protocols()) {
      totals.connections += c.open;
      totals.connectionsTotal += c.opened;
      totals.messagesIn += c.messagesIn;
      totals.messagesOut += c.messagesOut;
      totals.bytesIn += c.bytesIn;
      totals.bytesOut += c.bytesOut;
    }
    for (const [, c] of this.#counters.httpByVhost()) totals.httpRequests += responses(c);
    const m = process.memoryUsage();
    return {
      version: `tsws ${VERSION}`,
      hostname: this.#hostname,
      pid: process.pid,
      instance: this.#instance,
      takenAt: Date.now(),
      startedAt: this.#state.startedAt,
      draining: this.#state.draining,
      reloads: this.#state.reloads,
      listeners: layout.listeners.map((l) => ({ address: l.address, port: l.port, tls: l.tls, vhosts: [...l.vhosts] })),
      vhosts,
      totals,
      memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
    };
  }
}
