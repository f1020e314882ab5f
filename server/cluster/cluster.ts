/** @module One instance's membership of a cluster: Redis connections, start-up policy, heartbeats, reaping and restore. */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisBus } from '../bus/redis-bus.ts';
import type { ClusterConfig } from '../config/model.ts';
import { describeError, tswsError } from '../base/errors.ts';
import { CLAIM, HEARTBEAT, LIST, REAP, RELEASE, Script } from './scripts.ts';
import { newClusterStats, type ClusterStats } from '../metrics/cluster-stats.ts';

const claimScript = new Script(CLAIM);
const releaseScript = new Script(RELEASE);
const listScript = new Script(LIST);
const heartbeatScript = new Script(HEARTBEAT);
const reapScript = new Script(REAP);

/** A URL for logs: never the password. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export interface RawEntry {
  readonly key: string;
  readonly value: string;
  readonly instance: string;
  /** Redis server time of the claim, µs, as digits: orders entries the same way on every instance. */
  readonly since: string;
}

/**
 * Owned entries are remembered here as well as in Redis: after Redis comes
 * back (restarted empty, or our heartbeat lapsed and another instance reaped
 * us) they are written again, and releases that could not be sent are sent.
 */
export class RedisCluster {
  readonly config: ClusterConfig;
  readonly stats: ClusterStats;
  readonly bus: RedisBus;
  readonly cmd: Redis;
  readonly #sub: Redis;
  readonly #log: Logger;
  readonly #owned = new Map<string, Map<string, string>>();
  readonly #lingers = new Map<string, string>();
  readonly #pendingRelease = new Map<string, Set<string>>();
  readonly #listeners = new Map<string, Set<() => void>>();
  #timer: NodeJS.Timeout | undefined;
  #lastError = 'connection closed';
  #closed = false;
  #beating: Promise<void> = Promise.resolve();
  /** Set while first-come claims are held after a recovery (see #holdClaims). */
  #holdTimer: NodeJS.Timeout | undefined;
  #holdEnd: () => void = () => undefined;
  #holdDone: Promise<void> = Promise.resolve();

  private constructor(config: ClusterConfig, cmd: Redis, sub: Redis, log: Logger) {
    this.config = config;
    this.stats = newClusterStats();
    this.cmd = cmd;
    this.#sub = sub;
    this.#log = log;
    this.bus = new RedisBus({ cmd, sub, prefix: config.prefix, instanceId: config.instanceId, maxQueue: config.maxQueue, stats: this.stats, log });
  }

  /**
   * Start-up policy. Redis is probed first with a client that does not retry:
   * "retry" logs TSWS_ERR_CLUSTER_UNREACHABLE and probes again with capped
   * backoff, so the instance listens (and passes load-balancer health checks)
   * only once it is part of the cluster; "local" gives up at the first failure
   * and returns undefined: the caller serves alone, exactly as without a
   * "cluster" block, until restarted.
   */
  static async start(config: ClusterConfig, log: Logger): Promise<RedisCluster | undefined> {
    const url = safeUrl(config.redisUrl);
    for (let attempt = 1; ; attempt++) {
      const reason = await probe(config.redisUrl);
      if (reason === undefined) break;
      if (config.unreachableAtStart === 'local') {
        const e = tswsError('TSWS_WARN_CLUSTER_LOCAL_ONLY', { url, reason });
        log.warn({ event: 'cluster-local-only', code: e.code }, e.message);
        return undefined;
      }
      const retryMs = Math.min(250 * 2 ** (attempt - 1), 5000);
      const e = tswsError('TSWS_ERR_CLUSTER_UNREACHABLE', { url, attempt, reason, retryMs });
      log.error({ event: 'cluster-unreachable', code: e.code, attempt }, e.message);
      await new Promise((r) => setTimeout(r, retryMs));
    }
    const opts = (role: string) => ({
      connectionName: `tsws:${config.instanceId}:${role}`,
      // Never queue commands while disconnected, never resend one Redis may already have run.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
      lazyConnect: true,
    });
    // Publications made in one turn of the event loop leave in one write (measured: bench/cluster.md).
    const cmd = new Redis(config.redisUrl, { ...opts('cmd'), enableAutoPipelining: true });
    const sub = new Redis(config.redisUrl, opts('sub'));
    const cluster = new RedisCluster(config, cmd, sub, log);
    cluster.#watch();
    await Promise.all([cmd.connect(), sub.connect()]);
    // The first "ready" ran the first heartbeat; leftovers of an earlier process with this id go now.
    await cluster.#beating;
    await cluster.#reap(config.instanceId, false);
    const every = Math.max(200, Math.floor((config.ttlSecs * 1000) / 3));
    cluster.#timer = setInterval(() => void cluster.#tick(), every);
    cluster.#timer.unref();
    log.info({ event: 'cluster-joined', instance: config.instanceId, redis: url, prefix: config.prefix }, `cluster: joined as ${config.instanceId} through ${url}`);
    return cluster;
  }

  get connected(): boolean {
    return this.cmd.status === 'ready';
  }

  /** Leaves the cluster: this instance's entries are removed now (not after the TTL), then the connections close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#holdEnd();
    if (this.connected) {
      this.#owned.clear();
      await this.#reap(this.config.instanceId, true).catch(() => undefined);
    }
    await this.bus.close();
    await Promise.all([this.cmd.quit().catch(() => undefined), this.#sub.quit().catch(() => undefined)]);
    this.cmd.disconnect();
    this.#sub.disconnect();
  }

  // ---- presence groups: called by the scoped views ---------------------------

  groupKey(scoped: string): string {
    return `${this.config.prefix}pr:${scoped}`;
  }

  /**
   * Runs a shared-state operation: TSWS_ERR_CLUSTER_UNAVAILABLE at once while
   * Redis is away, and for a command the connection dropped under (plugins
   * tell that from a bug by the code).
   */
  async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (!this.connected) {
      this.stats.unavailable++;
      throw tswsError('TSWS_ERR_CLUSTER_UNAVAILABLE', { op });
    }
    try {
      return await fn();
    } catch (err) {
      if (this.connected && !droppedUnder(err)) throw err;
      this.stats.unavailable++;
      throw tswsError('TSWS_ERR_CLUSTER_UNAVAILABLE', { op }, err);
    }
  }

  /**
   * A first-come claim ('new' mode). While the cluster recovers from a Redis
   * that lost its data, or from this instance's reconnect, it is held (at most
   * ttlSecs) so that every live instance first restores what it holds: until
   * then a claim could take a key another instance still owns.
   */
  async claim(group: string, key: string, value: string, linger: string): Promise<boolean> {
    while (this.#holdTimer !== undefined) await this.#holdDone;
    const ok = (await this.run('claim', () => this.#claimScript(group, key, value, linger, 'new'))) === 1;
    if (ok) this.#remember(group, key, value, linger);
    if (ok) this.#notify(group);
    return ok;
  }

  /** Remembers first, so that a put made while Redis is away is applied when it is back. */
  put(group: string, key: string, value: string): void {
    this.#remember(group, key, value, '');
    if (!this.connected) return;
    this.#claimScript(group, key, value, '').then(
      () => this.#notify(group),
      (err: unknown) => this.#log.debug({ err: describeError(err), group, key }, 'cluster: put deferred until Redis is back'),
    );
  }

  async release(group: string, key: string): Promise<void> {
    const mine = this.#owned.get(group);
    mine?.delete(key);
    if (mine?.size === 0) this.#owned.delete(group);
    try {
      if (!this.connected) throw new Error('away');
      await releaseScript.run(this.cmd, [group, this.#ownKey], [this.config.prefix, this.config.instanceId, key]);
      this.#notify(group);
    } catch {
      // Applied when Redis is back; meanwhile list() may still show the entry elsewhere.
      let set = this.#pendingRelease.get(group);
      if (!set) this.#pendingRelease.set(group, (set = new Set()));
      set.add(key);
    }
  }

  async list(group: string): Promise<RawEntry[]> {
    const flat = (await this.run('list', () => listScript.run(this.cmd, [group], [this.config.prefix]))) as string[];
    const out: RawEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const raw = flat[i + 1] as string;
      const a = raw.indexOf('\n');
      const b = raw.indexOf('\n', a + 1);
      out.push({ key: flat[i] as string, instance: raw.slice(0, a), since: raw.slice(a + 1, b), value: raw.slice(b + 1) });
    }
    return out.sort((x, y) => x.since.length - y.since.length || (x.since < y.since ? -1 : x.since > y.since ? 1 : x.key < y.key ? -1 : 1));
  }

  /** Calls `fn` on each change notice of `group`; returns its stop. The group's Redis subscription lasts while it has a listener. */
  onChange(group: string, fn: () => void): () => void {
    let set = this.#listeners.get(group);
    if (!set) {
      this.#listeners.set(group, (set = new Set()));
      const listeners = set;
      this.bus.subscribe(this.#noticeTopic(group), () => {
        for (const l of listeners) l();
      });
    }
    const listeners = set;
    listeners.add(fn);
    return () => {
      if (!listeners.delete(fn) || listeners.size > 0 || this.#listeners.get(group) !== listeners) return;
      this.#listeners.delete(group);
      this.bus.unsubscribe(this.#noticeTopic(group));
    };
  }

  // ---- internals -----------------------------------------------------------

  get #ownKey(): string {
    return `${this.config.prefix}own:${this.config.instanceId}`;
  }

  #noticeTopic(group: string): string {
    return `~presence/${group.slice(this.config.prefix.length + 3)}`;
  }

  /** Tells every instance (this one at once) that a group changed; they read it again. */
  #notify(group: string): void {
    this.bus.publish(this.#noticeTopic(group), '', false);
  }

  #remember(group: string, key: string, value: string, linger: string): void {
    let mine = this.#owned.get(group);
    if (!mine) this.#owned.set(group, (mine = new Map()));
    mine.set(key, value);
    if (linger) this.#lingers.set(group, linger);
    this.#pendingRelease.get(group)?.delete(key);
  }

  #claimScript(group: string, key: string, value: string, linger: string, mode: 'new' | 'keep' = 'keep'): Promise<unknown> {
    if (key.includes('\n')) throw new Error('cluster: presence keys cannot hold a newline');
    return claimScript.run(this.cmd, [group, this.#ownKey], [this.config.prefix, this.config.instanceId, key, value, linger, mode]);
  }

  #watch(): void {
    const url = safeUrl(this.config.redisUrl);
    let wasUp = false;
    const onError = (err: Error) => {
      this.#lastError = err.message;
    };
    this.cmd.on('error', onError);
    this.#sub.on('error', onError);
    this.cmd.on('ready', () => {
      this.stats.connected = true;
      if (wasUp) {
        this.#log.info({ event: 'cluster-redis-restored', redis: url }, `cluster: Redis at ${url} is back; restoring this instance's entries`);
        this.#holdClaims('reconnected');
      }
      wasUp = true;
      this.#beating = this.#heartbeat(true);
    });
    this.cmd.on('close', () => {
      if (!this.stats.connected || this.#closed) return;
      this.stats.connected = false;
      this.stats.disconnects++;
      const e = tswsError('TSWS_WARN_CLUSTER_REDIS_LOST', { url, reason: this.#lastError });
      this.#log.warn({ event: 'cluster-redis-lost', code: e.code }, e.message);
    });
  }

  async #tick(): Promise<void> {
    if (!this.connected || this.#closed) return;
    await this.#heartbeat(false);
    await this.#reap('', false).catch((err: unknown) => this.#log.debug({ err: describeError(err) }, 'cluster: reap failed'));
  }

  /**
   * A heartbeat that finds its key gone (Redis restarted empty, or we stalled
   * past the TTL and were reaped) restores everything this instance holds;
   * so does every reconnect, since releases may have waited.
   */
  async #heartbeat(reconnected: boolean): Promise<void> {
    try {
      const existed = await heartbeatScript.run(this.cmd, [`${this.config.prefix}inst:${this.config.instanceId}`, `${this.config.prefix}instances`], [
        this.config.instanceId,
        this.config.ttlSecs * 1000,
      ]);
      // Our key gone without a reconnect: Redis lost its data (or reaped us); the others restore within a TTL.
      if (!reconnected && existed !== 1) this.#holdClaims('heartbeat key missing');
      if (reconnected || existed !== 1) await this.#restore();
    } catch (err) {
      this.#log.debug({ err: describeError(err) }, 'cluster: heartbeat failed');
    }
  }

  /**
   * Holds first-come claims for ttlSecs from now: by then every live instance
   * has heartbeated (an instance that has not counts as gone) and, finding its
   * key missing or having reconnected, restored its entries.
   */
  #holdClaims(reason: string): void {
    const ms = this.config.ttlSecs * 1000;
    if (this.#holdTimer === undefined) this.#holdDone = new Promise((r) => (this.#holdEnd = r));
    else clearTimeout(this.#holdTimer);
    this.#log.info({ event: 'cluster-claims-held', reason, ms }, `cluster: new claims held for ${ms} ms while instances restore their entries (${reason})`);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      this.#holdEnd();
      this.#log.info({ event: 'cluster-claims-open' }, 'cluster: new claims accepted again');
    }, ms);
    this.#holdTimer.unref();
  }

  async #restore(): Promise<void> {
    let restored = 0;
    let lost = 0;
    const touched = new Set<string>();
    for (const [group, keys] of [...this.#pendingRelease]) {
      for (const key of [...keys]) {
        await releaseScript.run(this.cmd, [group, this.#ownKey], [this.config.prefix, this.config.instanceId, key]);
        keys.delete(key);
        touched.add(group);
      }
      if (keys.size === 0) this.#pendingRelease.delete(group);
    }
    for (const [group, entries] of [...this.#owned]) {
      for (const [key, value] of [...entries]) {
        if ((await this.#claimScript(group, key, value, this.#lingers.get(group) ?? '')) === 1) {
          restored++;
          continue;
        }
        lost++;
        entries.delete(key);
        const e = tswsError('TSWS_WARN_CLUSTER_CLAIM_LOST', { group, key });
        this.#log.warn({ event: 'cluster-claim-lost', code: e.code }, e.message);
      }
      touched.add(group);
    }
    for (const group of touched) this.#notify(group);
    this.#log.info({ event: 'cluster-entries-restored', restored, lost }, `cluster: restored ${restored} entries of this instance (${lost} held elsewhere)`);
  }

  /** Removes the entries of instances whose heartbeat lapsed, and of `forced` (this instance, at start or when leaving). */
  async #reap(forced: string, leaving: boolean): Promise<void> {
    const reply = await reapScript.run(this.cmd, [`${this.config.prefix}instances`], [this.config.prefix, forced, leaving ? '1' : '']);
    const [removed, ...groups] = reply as [number, ...string[]];
    if (removed > 0 && forced !== this.config.instanceId) {
      this.stats.entriesReaped += removed;
      this.#log.info({ event: 'cluster-reaped', entries: removed, groups: groups.length }, `cluster: removed ${removed} entries of instance(s) that stopped`);
    }
    for (const g of groups) this.#notify(g);
  }
}

/**
 * ioredis's words for a command the connection dropped under, which can come
 * before its status leaves "ready" (the socket's close not yet handled): the
 * same fact as a status that already says so.
 */
function droppedUnder(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return m.startsWith("Stream isn't writeable") || m.startsWith('Connection is closed');
}

/** Undefined when Redis answered PING; otherwise why not. */
async function probe(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 3000, maxRetriesPerRequest: 0 });
  let last = '';
  r.on('error', (err: Error) => {
    last = err.message;
  });
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return last || describeError(err);
  } finally {
    r.disconnect();
  }
}
