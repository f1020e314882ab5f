/** @module The Prometheus registry: every metric reads the plain counters in its collect(), only when scraped. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterStats } from './cluster-stats.ts';
import { RECOVERY_RESULTS, type ChannelStats } from './channel-stats.ts';
import type { ServerState } from './server-state.ts';
import type { ProtocolCounters } from './counters.ts';
import { VERSION } from '../base/version.ts';

export interface MetricsOptions {
  readonly cluster: ClusterStats | undefined;
  /**
   * With count-threads: this thread's index (its runtime metrics carry it as a
   * "thread" label) and the mesh that merges every thread's registry into the
   * text a scrape gets, whichever thread it reaches.
   */
  readonly thread?: { readonly index: number; readonly mesh: MetricsMesh };
}

/** Joins a thread's registry to the others' (server/threads/metrics-mesh.ts). */
export interface MetricsMesh {
  /** Answers the other threads' requests with `local`; returns the render of all threads merged. */
  join(local: Registry): () => Promise<string>;
}

/** What the endpoints need: the text and its content type. */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

type ProtocolField = Exclude<keyof ProtocolCounters, 'open' | 'closes' | 'compression' | 'rateLimitedConnection' | 'rateLimitedAddress' | 'rateLimitedUser'>;

/** One counter per field, labelled {vhost, protocol}. */
const PROTOCOL_COUNTERS: readonly (readonly [name: string, help: string, field: ProtocolField])[] = [
  ['tsws_ws_connections_opened_total', 'Websocket connections established.', 'opened'],
  ['tsws_ws_received_messages_total', 'Websocket messages received.', 'messagesIn'],
  ['tsws_ws_received_bytes_total', 'Websocket payload bytes received.', 'bytesIn'],
  ['tsws_ws_sent_messages_total', 'Websocket messages written by plugins.', 'messagesOut'],
  ['tsws_ws_sent_bytes_total', 'Websocket payload bytes written (text in UTF-16 code units: exact for ASCII).', 'bytesOut'],
  ['tsws_ws_writable_callbacks_total', 'writable callbacks run.', 'writables'],
  ['tsws_ws_backpressure_waits_total', 'Times a connection had more than 64 KiB buffered and waited for a drain before its next writable.', 'backpressureWaits'],
  ['tsws_ws_dropped_writes_total', 'Writes the transport dropped (past its backpressure limit, or closing).', 'writesDropped'],
  ['tsws_ws_dropped_published_total', 'Published messages discarded by the drop-oldest inbox policy.', 'publishedDropped'],
  ['tsws_plugin_callback_errors_total', 'Plugin callbacks (websocket, HTTP, init, destroy, timers) that threw or rejected.', 'callbackErrors'],
];

type ClusterField = Exclude<keyof ClusterStats, 'connected' | 'queued'>;

const CLUSTER_COUNTERS: readonly (readonly [name: string, help: string, field: ClusterField])[] = [
  ['tsws_cluster_published_total', 'Publications handed to Redis.', 'published'],
  ['tsws_cluster_received_total', 'Publications from other instances delivered here.', 'received'],
  ['tsws_cluster_echoes_skipped_total', 'Own publications coming back from Redis, skipped.', 'echoesSkipped'],
  ['tsws_cluster_dropped_queue_full_total', 'Publications dropped because the queue for Redis was full.', 'droppedQueueFull'],
  ['tsws_cluster_lost_in_flight_total', 'Publications lost when the connection dropped while Redis had them.', 'lostInFlight'],
  ['tsws_cluster_disconnects_total', 'Times the connection to Redis was lost.', 'disconnects'],
  ['tsws_cluster_resubscribes_total', 'Times subscriptions were sent again after a reconnect.', 'resubscribes'],
  ['tsws_cluster_entries_reaped_total', 'Entries of dead instances removed by this one.', 'entriesReaped'],
  ['tsws_cluster_unavailable_total', 'Shared-state operations refused while Redis was away.', 'unavailable'],
  ['tsws_cluster_log_recovered_total', 'Shared-log publications delivered from the log after a subscription gap.', 'logRecovered'],
  ['tsws_cluster_log_unrecovered_total', 'Shared-log publications missed that the log no longer kept.', 'logUnrecovered'],
];

/**
 * Counters are rebuilt from the plain integers at each scrape (reset, then
 * set to the current total), so nothing on the hot path knows prom-client
 * exists. A scrape costs one pass over the vhost/protocol pairs.
 */
function buildRegistry(state: ServerState, opts: MetricsOptions): Registry {
  const cluster = opts.cluster;
  const registers = [new Registry()];
  const [registry] = registers as [Registry];
  const { counters } = state;

  for (const [name, help, field] of PROTOCOL_COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['vhost', 'protocol'],
      registers,
      collect() {
        this.reset();
        for (const [vhost, protocol, c] of counters.protocols()) this.inc({ vhost, protocol }, c[field]);
      },
    });
  }
  new Gauge({
    name: 'tsws_ws_connections',
    help: 'Websocket connections open now.',
    labelNames: ['vhost', 'protocol'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, protocol, c] of counters.protocols()) this.set({ vhost, protocol }, c.open);
    },
  });
  new Gauge({
    name: 'tsws_ws_compression',
    help: 'Protocols serving permessage-deflate: 1 with the compressor they offer ("shared", "dedicated-4k"...); protocols with it off are not listed.',
    labelNames: ['vhost', 'protocol', 'compression'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, protocol, c] of counters.protocols()) if (c.compression !== 'off') this.set({ vhost, protocol, compression: c.compression }, 1);
    },
  });
  new Counter({
    name: 'tsws_ws_rate_limited_total',
    help: 'Websocket connections closed (1008) for sending too fast, by the limit they went over: connection (the protocol\'s rateLimit), address (ws-rate-limit-address), user (ws-rate-limit-user).',
    labelNames: ['vhost', 'protocol', 'limit'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, protocol, c] of counters.protocols()) {
        this.inc({ vhost, protocol, limit: 'connection' }, c.rateLimitedConnection);
        this.inc({ vhost, protocol, limit: 'address' }, c.rateLimitedAddress);
        this.inc({ vhost, protocol, limit: 'user' }, c.rateLimitedUser);
      }
    },
  });
  new Counter({
    name: 'tsws_ws_closes_total',
    help: 'Websocket connections closed, by close code (1006: dropped without a close frame; a client\'s own codes by range: 3xxx, 4xxx, other).',
    labelNames: ['vhost', 'protocol', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, protocol, c] of counters.protocols()) for (const [code, n] of c.closes) this.inc({ vhost, protocol, code }, n);
    },
  });
  new Counter({
    name: 'tsws_http_requests_total',
    help: 'HTTP responses by status (websocket upgrades count as 101; 499: the client went away first).',
    labelNames: ['vhost', 'status'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, c] of counters.httpByVhost()) {
        c.byStatus.forEach((n, status) => {
          if (n > 0) this.inc({ vhost, status: status === 0 ? 'other' : String(status) }, n);
        });
      }
    },
  });
  new Counter({
    name: 'tsws_http_response_bytes_total',
    help: 'HTTP response body bytes sent.',
    labelNames: ['vhost'],
    registers,
    collect() {
      this.reset();
      for (const [vhost, c] of counters.httpByVhost()) this.inc({ vhost }, c.bytesOut);
    },
  });
  new Gauge({
    name: 'tsws_draining',
    help: '1 once the server is stopping (health paths answer 503), else 0.',
    registers,
    aggregator: 'max',
    collect() {
      this.set(state.draining ? 1 : 0);
    },
  });
  new Counter({
    name: 'tsws_reloads_total',
    help: 'Configuration reloads (SIGHUP): result "ok", or "failed" when the running configuration was kept.',
    labelNames: ['result'],
    registers,
    // Every thread reloads on the one signal: count it once.
    aggregator: 'max',
    collect() {
      this.reset();
      this.inc({ result: 'ok' }, state.reloads);
      this.inc({ result: 'failed' }, state.reloadFailures);
    },
  });
  new Counter({
    name: 'tsws_accept_paused_total',
    help: 'Times the listening sockets were closed near the open-file limit (90 % of it; they open again below 75 %).',
    registers,
    // The threads share one fd table and pause together: count it once.
    aggregator: 'max',
    collect() {
      this.reset();
      this.inc(state.acceptPauses);
    },
  });
  new Gauge({
    name: 'tsws_accepting',
    help: '0 while accepting is paused near the open-file limit, else 1.',
    registers,
    aggregator: 'min',
    collect() {
      this.set(state.acceptPaused ? 0 : 1);
    },
  });
  new Counter({
    name: 'tsws_watchdog_interrupts_total',
    help: 'Plugin callbacks interrupted by the watchdog after holding a serving thread longer than watchdog-secs (the log names each).',
    registers,
    collect() {
      this.reset();
      this.inc(state.watchdogInterrupts);
    },
  });
  new Gauge({ name: 'tsws_build_info', help: 'Always 1; the version is a label.', labelNames: ['version'], registers, aggregator: 'first' }).set({ version: VERSION }, 1);
  addChannelMetrics(registers, state.channels);
  if (cluster) addClusterMetrics(registers, cluster);
  // process_* and nodejs_* metrics, among them the event-loop lag (nodejs_eventloop_lag_seconds and its percentiles).
  // With threads, each thread's (its own event loop, its own heap) carry a "thread" label and stay apart when merged.
  collectDefaultMetrics({ register: registry, ...(opts.thread ? { labels: { thread: String(opts.thread.index) } } : {}) });
  return registry;
}

/** Each thread counts its own; the threads' mesh sums them (the default aggregator) into the process's figures. */
function addChannelMetrics(registers: Registry[], stats: ChannelStats): void {
  new Counter({
    name: 'tsws_channel_publications_total',
    help: 'Channel publications made on this server (vhost.channels, every channel).',
    registers,
    collect() {
      this.reset();
      this.inc(stats.published);
    },
  });
  new Counter({
    name: 'tsws_channel_recoveries_total',
    help: 'Channel subscriptions and history reads that asked to resume from a position, by result (recovered, epoch-changed, too-old, unavailable).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const r of RECOVERY_RESULTS) this.inc({ result: r }, stats.recoveries[r]);
    },
  });
  new Gauge({
    name: 'tsws_channel_presence_members',
    help: 'Channel presence members whose connection this server holds now.',
    registers,
    collect() {
      this.set(stats.members);
    },
  });
}

function addClusterMetrics(registers: Registry[], stats: ClusterStats): void {
  new Gauge({
    name: 'tsws_cluster_connected',
    help: '1 while the command connection to Redis is up.',
    registers,
    collect() {
      this.set(stats.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tsws_cluster_queued',
    help: 'Publications waiting for Redis.',
    registers,
    collect() {
      this.set(stats.queued);
    },
  });
  for (const [name, help, field] of CLUSTER_COUNTERS) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(stats[field]);
      },
    });
  }
}

/** One registry per process (per ServerState): a reload's new generation keeps serving the same one. */
const registries = new WeakMap<ServerState, MetricsSource>();

export function metricsFor(state: ServerState, opts: MetricsOptions): MetricsSource {
  let source = registries.get(state);
  if (!source) {
    const registry = buildRegistry(state, opts);
    source = { render: opts.thread ? opts.thread.mesh.join(registry) : () => registry.metrics(), contentType: registry.contentType };
    registries.set(state, source);
  }
  return source;
}
