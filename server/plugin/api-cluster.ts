/** @module Plugin API, state shared by several instances: vhost.cluster's presence groups and logs (re-exported by api.ts). */

/** One entry of a presence group, and the instance holding it. */
export interface PresenceEntry {
  readonly key: string;
  readonly value: string;
  readonly instance: string;
}

/**
 * Entries held by instances (chat members, status clients). An entry lives
 * while its instance does: released, or gone within the cluster's "ttl-secs"
 * after its instance stops heart-beating (crash, SIGKILL, network loss).
 */
export interface Presence {
  /** Holds `key` unless another live instance does (atomic across instances): false then. Rejects while Redis is away. */
  claim(key: string, value: string): Promise<boolean>;
  /** Holds a key nobody else can hold (it names this instance or connection): applied now, or once Redis is back. */
  put(key: string, value: string): void;
  /** Lets go of a key this instance holds; while Redis is away, once it is back. Never rejects. */
  release(key: string): Promise<void>;
  /** Live entries, oldest claim first (the same order on every instance). Rejects while Redis is away. */
  list(): Promise<PresenceEntry[]>;
  /** Called when any instance changes the group, or entries of a stopped instance are removed. */
  onChange(fn: () => void): void;
}

export interface SharedLogEntry {
  /** Consecutive from 1 across every instance, within the epoch. */
  readonly id: number;
  /**
   * The id sequence this entry belongs to: an opaque string, new whenever the
   * log starts again at 1 (it was deleted or expired, or Redis came back
   * without its data). A reader keeps (epoch, id): an id from another epoch
   * is never "already seen".
   */
  readonly epoch: string;
  readonly text: string;
}

/** A log shared by every instance: one id sequence per epoch, the newest `maxLength` entries kept (Redis Streams). */
export interface SharedLog {
  /**
   * Stores `before + id + after` under the next id, and (with `publishTo`)
   * publishes that text on the topic in the same step, so every instance,
   * this one included, receives a log's publications in id order. With
   * `between`, the epoch is spliced in too: `before + id + between + epoch + after`
   * (the epoch is digits only, safe inside a JSON string).
   */
  append(before: string, after: string, between?: string): Promise<SharedLogEntry>;
  /** Kept entries with id > `after` in the current epoch, oldest first, at most `limit`. */
  after(after: number, limit: number): Promise<SharedLogEntry[]>;
  /** The oldest kept id (lastId + 1 when none is kept), the last id given (0 for a new log) and the current epoch ("" for a log never written). */
  bounds(): Promise<{ readonly firstId: number; readonly lastId: number; readonly epoch: string }>;
}

export interface SharedLogOptions {
  /** Entries kept; older ones are trimmed (ids keep counting). 0 keeps none. */
  readonly maxLength: number;
  /** A topic (as for vhost.publish) receiving each appended text. */
  readonly publishTo?: string;
}

export interface PresenceOptions {
  /** When the group empties, these logs are kept `ms` longer, then deleted (0: at once); a new claim keeps them again. */
  readonly linger?: { readonly logs: readonly SharedLog[]; readonly ms: number };
}

export interface ClusterView {
  /** This instance's id (the cluster's "instance" key). */
  readonly instanceId: string;
  presence(name: string, opts?: PresenceOptions): Presence;
  log(name: string, opts: SharedLogOptions): SharedLog;
}

