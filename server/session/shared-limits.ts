/** @module Message rate limits shared by connections: per remote address and per user on one vhost, on this thread or, in a cluster, pooled in Redis. */
import type { Logger } from 'pino';
import type { CancelTimer, Clock } from '../base/clock.ts';
import { describeError } from '../base/errors.ts';
import type { BucketSpec, RateSync } from '../cluster/rate-sync.ts';

/** How long spending may wait before it is sent to the pool, when a chunk has not filled yet. */
const SYNC_MS = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a new bucket waits for the pool's answer before the upgrade goes on with the local bucket alone. */
const FIRST_SYNC_MS = 1000;

/**
 * Why spending is pooled in batches, not asked for per message. Asking Redis
 * before each message would add a round trip to every message's latency;
 * instead each instance keeps a local bucket and decides at once, and sends
 * what it spent to Redis when a chunk (a tenth of the burst, at least 1) has
 * been spent or SYNC_MS has passed, whichever comes first. Redis answers the
 * pool's level, and the local bucket takes it (minus what was spent since).
 * A new bucket (the first connection of an address or user here) asks the
 * pool before its upgrade completes, so an instance starts from what the
 * others spent. The trade-off: between two syncs each instance may spend up
 * to one chunk (or SYNC_MS worth) the others have not seen, so a burst spread
 * over N instances can pass the limit by up to N chunks; the pool then goes
 * below zero and every instance waits the debt out. With Redis away each
 * instance limits alone.
 */
export class SharedBucket {
  readonly key: string;
  readonly #spec: BucketSpec;
  readonly #perMs: number;
  readonly #owner: SharedLimits;
  #tokens: number;
  #last: number;
  refs = 0;
  /** Spent here and not yet sent to the pool. */
  #unsynced = 0;
  #syncing = false;
  #flushTimer: CancelTimer | undefined;
  #idleTimer: CancelTimer | undefined;

  constructor(key: string, spec: BucketSpec, owner: SharedLimits) {
    this.key = key;
    this.#spec = spec;
    this.#perMs = spec.perSecond / 1000;
    this.#owner = owner;
    this.#tokens = spec.burst;
    this.#last = owner.clock.now();
  }

  get #chunk(): number {
    return Math.max(1, Math.floor(this.#spec.burst / 10));
  }

  /** Spends one token; false when none is left (the pool's debt included). */
  take(): boolean {
    const t = this.#owner.clock.now();
    this.#tokens = Math.min(this.#spec.burst, this.#tokens + (t - this.#last) * this.#perMs);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    if (this.#owner.sync) {
      this.#unsynced++;
      this.#schedule();
    }
    return true;
  }

  /** A chunk spent: send it now; less: within SYNC_MS. */
  #schedule(): void {
    if (this.#unsynced >= this.#chunk) void this.sync();
    else if (this.#unsynced > 0) this.#flushTimer ??= this.#owner.clock.timer(SYNC_MS, () => {
      this.#flushTimer = undefined;
      void this.sync();
    }, false);
  }

  /** Sends what was spent here to the pool and takes its level; never rejects (the pool away: the local bucket alone). */
  async sync(): Promise<void> {
    const pool = this.#owner.sync;
    if (!pool || this.#syncing) return;
    this.#flushTimer?.();
    this.#flushTimer = undefined;
    const spent = this.#unsynced;
    this.#unsynced = 0;
    this.#syncing = true;
    try {
      const level = await pool.spend(this.key, this.#spec, spent);
      this.#last = this.#owner.clock.now();
      this.#tokens = Math.min(this.#spec.burst, level - this.#unsynced);
    } catch (err) {
      this.#owner.log.debug({ err: describeError(err), key: this.key }, 'rate limit: spending not pooled (Redis away); limiting locally');
    } finally {
      this.#syncing = false;
    }
    this.#schedule();
  }

  /** Its last connection left: kept until it would be full again, so reconnecting does not refill it. */
  idle(): void {
    if (this.#unsynced > 0) void this.sync();
    const t = this.#owner.clock.now();
    const level = Math.min(this.#spec.burst, this.#tokens + (t - this.#last) * this.#perMs);
    const ms = Math.ceil((this.#spec.burst - level) / this.#perMs) + 1;
    // Node's timers stop at about 24.8 days (a slow rate with a large burst can need longer): wait again then.
    this.#idleTimer = this.#owner.clock.timer(Math.min(ms, MAX_TIMER_MS), () => (ms > MAX_TIMER_MS ? this.idle() : this.#owner.forget(this)), false);
  }

  /** A connection took it again before it was forgotten. */
  busy(): void {
    this.#idleTimer?.();
    this.#idleTimer = undefined;
  }
}

/** The buckets one connection spends from; `take` names the first limit it is over. */
export class HeldLimits {
  readonly address: SharedBucket | undefined;
  readonly user: SharedBucket | undefined;
  readonly #owner: SharedLimits;
  /** Resolves once new buckets heard from the pool (a cluster only). */
  readonly ready: Promise<void> | undefined;
  #released = false;

  constructor(owner: SharedLimits, address: SharedBucket | undefined, user: SharedBucket | undefined, ready: Promise<void> | undefined) {
    this.#owner = owner;
    this.address = address;
    this.user = user;
    this.ready = ready;
  }

  take(): 'address' | 'user' | undefined {
    if (this.address && !this.address.take()) return 'address';
    if (this.user && !this.user.take()) return 'user';
    return undefined;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.address) this.#owner.drop(this.address);
    if (this.user) this.#owner.drop(this.user);
  }
}

export interface SharedLimitSpecs {
  readonly address: BucketSpec | undefined;
  readonly user: BucketSpec | undefined;
}

/**
 * One vhost's shared limits ("ws-rate-limit-address", "ws-rate-limit-user").
 * The buckets live here, keyed by address or subject, while a connection
 * holds them and until they would be full again after.
 */
export class SharedLimits {
  readonly vhostName: string;
  readonly specs: SharedLimitSpecs;
  readonly clock: Clock;
  readonly sync: RateSync | undefined;
  readonly log: Logger;
  readonly #buckets = new Map<string, SharedBucket>();

  constructor(vhostName: string, specs: SharedLimitSpecs, clock: Clock, sync: RateSync | undefined, log: Logger) {
    this.vhostName = vhostName;
    this.specs = specs;
    this.clock = clock;
    this.sync = sync;
    this.log = log;
  }

  /** The same limits, so a reload can keep the buckets. */
  sameAs(specs: SharedLimitSpecs, sync: RateSync | undefined): boolean {
    const eq = (a: BucketSpec | undefined, b: BucketSpec | undefined) => a?.perSecond === b?.perSecond && a?.burst === b?.burst;
    return eq(this.specs.address, specs.address) && eq(this.specs.user, specs.user) && this.sync === sync;
  }

  /** The buckets for a new connection from `peer` (authenticated as `subject`, if at all). */
  hold(peer: string, subject: string | undefined): HeldLimits | undefined {
    const fresh: SharedBucket[] = [];
    const address = this.specs.address && this.#bucket(`a:${this.vhostName}/${peer}`, this.specs.address, fresh);
    const user = this.specs.user && subject !== undefined ? this.#bucket(`u:${this.vhostName}/${subject}`, this.specs.user, fresh) : undefined;
    if (!address && !user) return undefined;
    return new HeldLimits(this, address, user, fresh.length > 0 && this.sync ? firstSync(fresh, this.clock) : undefined);
  }

  drop(b: SharedBucket): void {
    if (--b.refs === 0) b.idle();
  }

  forget(b: SharedBucket): void {
    if (b.refs === 0 && this.#buckets.get(b.key) === b) this.#buckets.delete(b.key);
  }

  #bucket(key: string, spec: BucketSpec, fresh: SharedBucket[]): SharedBucket {
    let b = this.#buckets.get(key);
    if (!b) {
      this.#buckets.set(key, (b = new SharedBucket(key, spec, this)));
      fresh.push(b);
    }
    if (b.refs++ === 0) b.busy();
    return b;
  }
}

/** Every new bucket's first word from the pool, or FIRST_SYNC_MS, whichever comes first (a stalled Redis must not hold upgrades). */
function firstSync(fresh: readonly SharedBucket[], clock: Clock): Promise<void> {
  return new Promise((resolve) => {
    const cancel = clock.timer(FIRST_SYNC_MS, resolve, false);
    void Promise.all(fresh.map((b) => b.sync())).then(() => {
      cancel();
      resolve();
    });
  });
}
