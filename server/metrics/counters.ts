/** @module Plain integer counters kept on the hot path, read by the metrics endpoint and the status snapshot at scrape time. */
import type { WsCompression } from '../config/model.ts';

/**
 * What one protocol on one vhost has done. The connection code adds to these
 * fields directly (one integer add each: no prom-client call, no lookup per
 * message); prom-client reads them only when scraped. Counters only grow,
 * except `open`, a gauge.
 */
export interface ProtocolCounters {
  /** Gauge: established connections now. */
  open: number;
  /** Connections established since start. */
  opened: number;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  /**
   * Payload bytes written. Text is counted in UTF-16 code units (exact for
   * ASCII, low for other text): an exact UTF-8 count would cost a scan of
   * every string sent, about 40 ns a message.
   */
  bytesOut: number;
  /** writable callbacks run. */
  writables: number;
  /** Times a connection had more than the writable threshold buffered and had to wait for a drain. */
  backpressureWaits: number;
  /** Writes the transport dropped (uWS.js send status 2: past its backpressure limit, or closing). */
  writesDropped: number;
  /** Published messages discarded by the "drop-oldest" inbox policy. */
  publishedDropped: number;
  /** Connections closed (1008) for going over the protocol's rateLimit, the vhost's ws-rate-limit-address, its ws-rate-limit-user. */
  rateLimitedConnection: number;
  rateLimitedAddress: number;
  rateLimitedUser: number;
  /** Plugin callbacks that threw or rejected (any callback, websocket or HTTP, and timers). */
  callbackErrors: number;
  /** Close code label (closeCodeLabel: "1000", "4xxx", ...) → closes of established connections with it. */
  readonly closes: Map<string, number>;
  /** permessage-deflate as the latest configuration serves this protocol here (set by its host; "off" until then). */
  compression: WsCompression;
}

export function newProtocolCounters(): ProtocolCounters {
  return {
    open: 0,
    opened: 0,
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    writables: 0,
    backpressureWaits: 0,
    writesDropped: 0,
    publishedDropped: 0,
    rateLimitedConnection: 0,
    rateLimitedAddress: 0,
    rateLimitedUser: 0,
    callbackErrors: 0,
    closes: new Map(),
    compression: 'off',
  };
}

/** One vhost's HTTP responses (websocket upgrades included, as status 101). */
export interface HttpCounters {
  /** Indexed by status; index 0 holds statuses outside 0-599. */
  readonly byStatus: Float64Array;
  /** Body bytes sent. */
  bytesOut: number;
}

export function newHttpCounters(): HttpCounters {
  return { byStatus: new Float64Array(600), bytesOut: 0 };
}

/** Adds one finished response: an array slot and a number, nothing allocated. */
export function countResponse(c: HttpCounters, status: number, bytes: number): void {
  const i = status >= 0 && status < 600 ? status : 0;
  c.byStatus[i] = (c.byStatus[i] ?? 0) + 1;
  c.bytesOut += bytes;
}

/**
 * Every counter of the process, keyed by vhost and protocol name. It outlives
 * a server generation: after a reload the new ProtocolHost of the same vhost
 * and protocol gets the same object, so totals keep counting (a Prometheus
 * counter must not go back) and connections still open on the old generation
 * stay in the `open` gauge until they close.
 */
export class Counters {
  readonly #protocols = new Map<string, Map<string, ProtocolCounters>>();
  readonly #http = new Map<string, HttpCounters>();

  protocol(vhost: string, protocol: string): ProtocolCounters {
    let byName = this.#protocols.get(vhost);
    if (!byName) this.#protocols.set(vhost, (byName = new Map()));
    let c = byName.get(protocol);
    if (!c) byName.set(protocol, (c = newProtocolCounters()));
    return c;
  }

  http(vhost: string): HttpCounters {
    let c = this.#http.get(vhost);
    if (!c) this.#http.set(vhost, (c = newHttpCounters()));
    return c;
  }

  *protocols(): IterableIterator<readonly [vhost: string, protocol: string, counters: ProtocolCounters]> {
    for (const [vhost, byName] of this.#protocols) for (const [protocol, c] of byName) yield [vhost, protocol, c];
  }

  *httpByVhost(): IterableIterator<readonly [vhost: string, counters: HttpCounters]> {
    yield* this.#http;
  }
}
