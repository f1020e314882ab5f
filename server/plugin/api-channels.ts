/**
 * @module Plugin API, channels (vhost.channels): publications with positions, bounded history, resume
 * without a silent gap, and presence; the same semantics alone, across count-threads and across a
 * Redis cluster (re-exported by api.ts). The wire frames a client speaks to use them are in channel-frames.ts.
 */

/**
 * What subscribe and presence take: the `conn` a callback was given (a Conn
 * satisfies this). Named structurally rather than as Conn so that this file
 * and api-handles.ts (whose ProtocolVhost has `channels`) do not import each
 * other; an object the framework did not make is refused with
 * TSWS_ERR_CHANNEL_CONNECTION.
 */
export interface ChannelConn {
  readonly id: number;
  readonly isOpen: boolean;
}

/**
 * Where a publication sits in its channel. `offset` counts 1, 2, 3... within
 * `epoch`; the epoch is an opaque string, new whenever the channel's store
 * lost its state (a restarted process without a cluster, a Redis that came
 * back empty, a channel forgotten after its history expired). A reader keeps
 * (epoch, offset): an offset of another epoch says nothing.
 */
export interface ChannelPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** One publication, live or from history. */
export interface ChannelMessage extends ChannelPosition {
  readonly channel: string;
  readonly data: Buffer | string;
  readonly isBinary: boolean;
  /** When the store took it (milliseconds since 1970, the publishing server's clock). */
  readonly time: number;
}

export interface ChannelOptions {
  /**
   * Publications kept for history and resume: the newest `size` (0, the
   * default: none), and of those none older than `ttlSecs` (0, the default:
   * no age bound). The first `channel()` call for a name on this vhost and
   * protocol decides; later calls must agree (TSWS_ERR_CHANNEL_OPTIONS).
   */
  readonly history?: { readonly size: number; readonly ttlSecs?: number };
}

/** The answer to "give me what I missed since (epoch, offset)". */
export type ChannelRecovery =
  | { readonly recovered: true; readonly missed: number }
  | {
      readonly recovered: false;
      /**
       * 'epoch-changed': the position belongs to a store that is gone;
       * 'too-old': messages after it were trimmed (size or age);
       * 'unavailable': the store cannot be read now (Redis away).
       */
      readonly reason: 'epoch-changed' | 'too-old' | 'unavailable';
    };

export interface ChannelSubscription {
  /** The channel's last position when the subscription took effect: live messages follow it. */
  readonly position: ChannelPosition;
  /** Present when `since` was given. */
  readonly recovery: ChannelRecovery | undefined;
}

export interface ChannelHistory {
  /** Oldest first. */
  readonly messages: readonly ChannelMessage[];
  /** The channel's last position when read. */
  readonly position: ChannelPosition;
  /** Present when `since` was given: whether `messages` are everything after it. */
  readonly recovery: ChannelRecovery | undefined;
}

/** One member of a channel's presence set. */
export interface PresenceMember {
  /** Unique within the channel: a connection joins at most once, a second join replaces its info. */
  readonly id: string;
  /** What the plugin gave at join (a user name, a JSON-able object). */
  readonly info: unknown;
  /** The thread or instance holding the member's connection. */
  readonly holder: string;
}

export type PresenceEvent = { readonly type: 'join' | 'leave'; readonly member: PresenceMember };

export interface ChannelPresence {
  /** Adds the connection (left automatically when it closes, or when its thread or instance dies, within the documented bound). */
  join(conn: ChannelConn, info: unknown): Promise<PresenceMember>;
  leave(conn: ChannelConn): Promise<void>;
  /** Every member on every thread and instance, oldest join first. Rejects while the store is away. */
  list(): Promise<PresenceMember[]>;
  /** Called for every join and leave anywhere; returns the function that stops it. */
  onChange(fn: (event: PresenceEvent) => void): () => void;
}

/** One channel of one protocol on one vhost (names are scoped to both, as vhost.publish's topics are). */
export interface Channel {
  readonly name: string;
  /** Stores (when history is kept) and delivers to every subscriber everywhere; resolves with its position. */
  publish(data: string | Uint8Array, isBinary?: boolean): Promise<ChannelPosition>;
  /** The last position given ({ epoch, offset: 0 } before the first publication of an epoch). */
  position(): Promise<ChannelPosition>;
  /** Kept publications after `since` (all kept ones without it), oldest first, at most `limit` (default: all kept). */
  history(opts?: { readonly since?: ChannelPosition; readonly limit?: number }): Promise<ChannelHistory>;
  /**
   * Delivers this channel's publications to the connection, through its
   * published queue (conn.nextPublished(), whose items carry `channel`).
   * With `since`, every kept publication after it comes first, in order,
   * then live ones, with no gap and no duplicate; if that cannot be done the
   * recovery says why and live ones follow the current position.
   */
  subscribe(conn: ChannelConn, since?: ChannelPosition): Promise<ChannelSubscription>;
  unsubscribe(conn: ChannelConn): void;
  readonly presence: ChannelPresence;
}

/** vhost.channels: always present; the server picks the store (process, count-threads' main thread, or the cluster's Redis). */
export interface Channels {
  channel(name: string, opts?: ChannelOptions): Channel;
}
