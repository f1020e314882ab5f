/** @module The read-only view of the whole server that plugins get as `vhost.server`: snapshots built from the counters. */
import os from 'node:os';
import type { ListenerInfo } from './listeners.ts';
import type { ProtocolSnapshot, ServerSnapshot, ServerView, ThreadSnapshot, TrafficCounts, VhostSnapshot } from '../plugin/api.ts';
import type { ServerState } from '../metrics/server-state.ts';
import type { Counters, HttpCounters, ProtocolCounters } from '../metrics/counters.ts';
import { VERSION } from '../base/version.ts';

/** The vhosts of one server generation and the protocols each serves, in config order. */
export interface ServedLayout {
  readonly vhosts: readonly { readonly name: string; readonly protocols: readonly string[] }[];
  readonly listeners: readonly ListenerInfo[];
}

/**
 * How a thread's figures reach the others (count-threads; server/threads/figures-mesh.ts):
 * `join` hands over this thread's own, `others` gives the last each other thread shared.
 */
export interface FiguresMesh {
  join(own: () => ThreadSnapshot): void;
  others(): readonly ThreadSnapshot[];
}

type Totals = { -readonly [K in keyof TrafficCounts]: number } & { httpRequests: number };

const noTotals = (): Totals => ({ connections: 0, connectionsTotal: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, httpRequests: 0 });

function add(into: Totals, c: TrafficCounts): void {
  into.connections += c.connections;
  into.connectionsTotal += c.connectionsTotal;
  into.messagesIn += c.messagesIn;
  into.messagesOut += c.messagesOut;
  into.bytesIn += c.bytesIn;
  into.bytesOut += c.bytesOut;
}

/** Every thread's vhosts and totals added up, in this thread's vhost and protocol order (the threads serve one config). */
function merged(threads: readonly ThreadSnapshot[]): { vhosts: VhostSnapshot[]; totals: Totals } {
  const [own, ...others] = threads as [ThreadSnapshot, ...ThreadSnapshot[]];
  if (others.length === 0) return { vhosts: [...own.vhosts], totals: { ...own.totals } };
  const totals = noTotals();
  for (const t of threads) {
    add(totals, t.totals);
    totals.httpRequests += t.totals.httpRequests;
  }
  const vhosts = own.vhosts.map((v) => {
    const peers = others.map((t) => t.vhosts.find((o) => o.name === v.name));
    const protocols = v.protocols.map((p) => {
      const sum = noTotals();
      add(sum, p);
      for (const peer of peers) {
        const q = peer?.protocols.find((o) => o.name === p.name);
        if (q) add(sum, q);
      }
      const { httpRequests: _unused, ...counts } = sum;
      // Every thread serves one config: its compression is this thread's.
      return { name: p.name, compression: p.compression, ...counts };
    });
    const httpRequests = peers.reduce((n, peer) => n + (peer?.httpRequests ?? 0), v.httpRequests);
    return { name: v.name, protocols, httpRequests };
  });
  return { vhosts, totals };
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
  readonly #mesh: FiguresMesh | undefined;

  readonly thread: { readonly index: number; readonly count: number };

  constructor(state: ServerState, layout: () => ServedLayout, instance: string | undefined, thread = { index: 0, count: 1 }, mesh?: FiguresMesh) {
    this.thread = thread;
    this.#state = state;
    this.#counters = state.counters;
    this.#layout = layout;
    this.#instance = instance;
    this.#mesh = mesh;
    mesh?.join(() => this.#own(this.#layout()));
  }

  snapshot(): ServerSnapshot {
    const layout = this.#layout();
    const threads = [this.#own(layout), ...(this.#mesh?.others() ?? [])];
    const { vhosts, totals } = merged(threads);
    const m = process.memoryUsage();
    return {
      version: `tsws ${VERSION}`,
      hostname: this.#hostname,
      pid: process.pid,
      instance: this.#instance,
      takenAt: threads[0]!.takenAt,
      startedAt: this.#state.startedAt,
      draining: this.#state.draining,
      reloads: this.#state.reloads,
      listeners: layout.listeners.map((l) => ({ address: l.address, port: l.port, tls: l.tls, vhosts: [...l.vhosts] })),
      vhosts,
      totals,
      threads,
      memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
    };
  }

  /** This thread's own figures. */
  #own(layout: ServedLayout): ThreadSnapshot {
    const totals = noTotals();
    const vhosts: VhostSnapshot[] = [];
    const seen = new Set<string>();
    for (const v of layout.vhosts) {
      // Vhosts of one name on several listeners share their counters: one entry.
      if (seen.has(v.name)) continue;
      seen.add(v.name);
      const protocols: ProtocolSnapshot[] = v.protocols.map((name) => {
        const c = this.#counters.protocol(v.name, name);
        return { name, compression: c.compression, ...traffic(c) };
      });
      const httpRequests = responses(this.#counters.http(v.name));
      vhosts.push({ name: v.name, protocols, httpRequests });
    }
    // Totals cover every counter of the process, a vhost a reload removed included, so rates never jump back.
    for (const [, , c] of this.#counters.protocols()) add(totals, traffic(c));
    for (const [, c] of this.#counters.httpByVhost()) totals.httpRequests += responses(c);
    return { index: this.thread.index, takenAt: Date.now(), vhosts, totals };
  }
}
