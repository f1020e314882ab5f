/** @module The cluster's half of the shared rate limits: one Redis token bucket per limited key, spent in batches by every instance. */
import { SPEND, Script } from './scripts.ts';
import type { RedisCluster } from './cluster.ts';

const spendScript = new Script(SPEND);

/** A bucket's settings, as the config gives them (server/config/value-types.ts RateSpec). */
export interface BucketSpec {
  readonly perSecond: number;
  readonly burst: number;
}

/** Where a shared bucket's spending is pooled: Redis in a cluster (server/session/shared-limits.ts holds the local side). */
export interface RateSync {
  /** Adds `spent` to the pooled bucket `key` and answers its tokens left (negative: owed). Rejects when the pool is away. */
  spend(key: string, spec: BucketSpec, spent: number): Promise<number>;
}

/** The pool in Redis: key "<prefix>rl:<key>" (see the layout in scripts.ts). */
export class ClusterRates implements RateSync {
  readonly #cluster: RedisCluster;

  constructor(cluster: RedisCluster) {
    this.#cluster = cluster;
  }

  async spend(key: string, spec: BucketSpec, spent: number): Promise<number> {
    const c = this.#cluster;
    const reply = await c.run('rate-limit', () => spendScript.run(c.cmd, [`${c.config.prefix}rl:${key}`], [spec.perSecond / 1000, spec.burst, spent]));
    return Number(reply);
  }
}
