/** @module Builds the ClusterConfig from the global "cluster" object. */
import crypto from 'node:crypto';
import os from 'node:os';
import { tswsError } from '../errors.ts';
import { asInt, asString, isPlainObject, type Site } from './coerce.ts';
import type { ClusterConfig } from './model.ts';
import { CLUSTER_KEYS } from './schema.ts';
import { checkKeys } from './vhost-block.ts';

/** Ids travel in every bus message (one length byte) and in key names: keep them short and plain. */
const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A fresh id per process by default: a restarted task must not inherit the
 * entries its crashed predecessor left, which then expire on their own.
 */
/** Drawn once per module instance (a process, or a thread): a reload reads the config again and must get the same id. */
const INSTANCE_SUFFIX = crypto.randomBytes(2).toString('hex');

function defaultInstanceId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'tsws';
  return `${host}-${process.pid}-${INSTANCE_SUFFIX}`;
}

export function buildCluster(raw: unknown, site: Site): ClusterConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'cluster', expected: 'an object such as {"redis": "redis://127.0.0.1:6379"}', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const use = checkKeys(raw, site, 'cluster', CLUSTER_KEYS, []);
  const get = <T>(key: string, conv: (v: unknown, s: Site, k: string) => T | undefined): T | undefined =>
    use.has(key) ? conv(raw[key], site.at(key), key) : undefined;
  const value = (key: string, detail: string) => site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at(key).where, key, detail }));

  const redisUrl = get('redis', asString);
  if (redisUrl === undefined && !use.has('redis')) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'redis', block: 'cluster' }));
  else if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) value('redis', `"${redisUrl}" is not a redis:// or rediss:// URL`);

  const instanceId = get('instance', asString) ?? defaultInstanceId();
  if (!INSTANCE_ID.test(instanceId)) value('instance', 'use 1 to 64 letters, digits, ".", "_", ":" or "-"');

  const prefix = get('prefix', asString) ?? 'tsws:';
  const unreachable = get('unreachable-at-start', asString) ?? 'retry';
  if (unreachable !== 'retry' && unreachable !== 'local') value('unreachable-at-start', `"${unreachable}" is neither "retry" nor "local"`);

  const ttlSecs = get('ttl-secs', (v, s, k) => asInt(v, s, k, 1, 3600)) ?? 15;
  const maxQueue = get('max-queue', (v, s, k) => asInt(v, s, k, 1, 10_000_000)) ?? 10_000;
  if (site.diag.errors.length > errorsBefore || redisUrl === undefined) return undefined;
  return {
    redisUrl,
    prefix,
    instanceId,
    unreachableAtStart: unreachable === 'local' ? 'local' : 'retry',
    ttlSecs,
    maxQueue,
    source: site.source,
  };
}
