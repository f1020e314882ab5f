/** @module Plugin API, the server as a whole: the read-only figures vhost.server gives (re-exported by api.ts). */
import type { WsCompression } from '../config/model.ts';

/**
 * Cumulative figures since the process started (they survive a reload), and
 * the connections open now. Rates are differences between two snapshots
 * divided by the time between their `takenAt`.
 */
export interface TrafficCounts {
  /** Websocket connections open now. */
  readonly connections: number;
  /** Websocket connections established since start. */
  readonly connectionsTotal: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  /** Payload bytes written; text is counted in UTF-16 code units (exact for ASCII). */
  readonly bytesOut: number;
}

export interface ProtocolSnapshot extends TrafficCounts {
  readonly name: string;
  /** permessage-deflate as this vhost serves the protocol: "off" (the default), "shared", "dedicated-4k"... */
  readonly compression: WsCompression;
}

export interface VhostSnapshot {
  readonly name: string;
  /** The protocols this vhost serves (loaded and initialised), in config order. */
  readonly protocols: readonly ProtocolSnapshot[];
  /** HTTP responses it sent (websocket upgrades included). */
  readonly httpRequests: number;
}

export interface ListenerSnapshot {
  /** "host:port", or a UNIX socket's path. */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  /** The vhosts it serves; empty for the metrics listener. */
  readonly vhosts: readonly string[];
}

/** One thread's own figures (count-threads); ServerSnapshot's vhosts and totals add every thread's up. */
export interface ThreadSnapshot {
  readonly index: number;
  /**
   * When these figures were taken. Another thread's are the last it shared:
   * each thread shares its own every second, so they are at most about a
   * second old (a busy or stuck thread's older; a thread silent for 5 s is left out).
   */
  readonly takenAt: number;
  readonly vhosts: readonly VhostSnapshot[];
  readonly totals: TrafficCounts & { readonly httpRequests: number };
}

export interface ServerSnapshot {
  /** "tsws <version>". */
  readonly version: string;
  readonly hostname: string;
  readonly pid: number;
  /** In a cluster, this instance's id; undefined when tsws serves alone. */
  readonly instance: string | undefined;
  /** When this snapshot was taken, milliseconds since the epoch. */
  readonly takenAt: number;
  /** When the process started serving, milliseconds since the epoch. */
  readonly startedAt: number;
  /** True once the server is stopping (its health paths answer 503). */
  readonly draining: boolean;
  /** Configuration reloads since start. */
  readonly reloads: number;
  readonly listeners: readonly ListenerSnapshot[];
  /** Per vhost and protocol, over every thread (count-threads). */
  readonly vhosts: readonly VhostSnapshot[];
  /** Every vhost and protocol added up, over every thread. */
  readonly totals: TrafficCounts & { readonly httpRequests: number };
  /** Each thread's own figures, this one's first; one entry when the process serves with one thread. */
  readonly threads: readonly ThreadSnapshot[];
  /** process.memoryUsage(), bytes. */
  readonly memory: { readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number; readonly arrayBuffers: number };
}

/** What plugins may know about the server they run in; no handle on its internals. */
export interface ServerView {
  /** A fresh copy of the figures: plain data, safe to keep, compare or serialise (JSON.stringify). */
  snapshot(): ServerSnapshot;
  /**
   * Which of the process's threads this is (count-threads): each runs its own
   * copy of every plugin. State kept in memory is per thread; broadcasts
   * (vhost.publish) reach every thread. { index: 0, count: 1 } when alone.
   */
  readonly thread: { readonly index: number; readonly count: number };
}

