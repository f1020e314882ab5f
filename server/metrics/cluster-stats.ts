/** @module The cluster's counters: one small object the metrics endpoint can expose as it is. */

/**
 * Counters only grow (except the gauges marked so); logs report state changes,
 * never single messages, so these are where per-message facts are kept.
 */
export interface ClusterStats {
  /** Gauge: whether the command connection to Redis is up. */
  connected: boolean;
  /** Gauge: publications waiting for Redis. */
  queued: number;
  /** Publications handed to Redis (and accepted by it). */
  published: number;
  /** Publications received from other instances and delivered here. */
  received: number;
  /** This instance's own publications coming back from Redis, skipped (already delivered locally). */
  echoesSkipped: number;
  /** Publications dropped because the queue for Redis was full. */
  droppedQueueFull: number;
  /** Publications lost because the connection dropped while Redis had them in hand (never resent: no duplicates). */
  lostInFlight: number;
  /** Times the connection to Redis was lost while running. */
  disconnects: number;
  /** Times subscriptions were sent again after a reconnect. */
  resubscribes: number;
  /** Entries of instances that stopped heart-beating, removed by this instance. */
  entriesReaped: number;
  /** Shared-state operations refused because Redis was away. */
  unavailable: number;
  /** Shared-log publications delivered from the log after a subscription gap (those missed, and any whose own copy was still on its way). */
  logRecovered: number;
  /** Shared-log publications missed that the log no longer kept: readers see a hole in the ids. */
  logUnrecovered: number;
}

export function newClusterStats(): ClusterStats {
  return {
    connected: false,
    queued: 0,
    published: 0,
    received: 0,
    echoesSkipped: 0,
    droppedQueueFull: 0,
    lostInFlight: 0,
    disconnects: 0,
    resubscribes: 0,
    entriesReaped: 0,
    unavailable: 0,
    logRecovered: 0,
    logUnrecovered: 0,
  };
}
