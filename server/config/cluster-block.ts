/** @module Builds the ClusterConfig from the global "cluster" object. */
import { tswsError } from '../base/errors.ts';
import { isPlainObject } from './coerce.ts';
import type { ReadContext } from './key-spec.ts';
import type { ClusterConfig } from './model.ts';
import { readBlock } from './read-block.ts';
import { CLUSTER_KEYS } from './schema.ts';
import type { Nested } from './value-types.ts';

export function buildCluster({ raw, site }: Nested, ctx: ReadContext): ClusterConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'cluster', expected: 'an object such as {"redis": "redis://127.0.0.1:6379"}', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const v = readBlock(raw, site, 'cluster', CLUSTER_KEYS, [], ctx);
  const redisUrl = v.redis;
  if (!('redis' in raw)) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'redis', block: 'cluster' }));
  if (site.diag.errors.length > errorsBefore || redisUrl === undefined) return undefined;
  return {
    redisUrl,
    prefix: v.prefix,
    instanceId: v.instance,
    unreachableAtStart: v['unreachable-at-start'],
    ttlSecs: v['ttl-secs'],
    maxQueue: v['max-queue'],
    source: site.source,
  };
}
