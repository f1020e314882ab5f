/** @module Builds the MetricsConfig from the global "metrics" object. */
import { tswsError } from '../errors.ts';
import { asInt, asPlainPath, asString, isPlainObject, type Site } from './coerce.ts';
import type { MetricsConfig } from './model.ts';
import { METRICS_KEYS } from './schema.ts';
import { checkKeys } from './vhost-block.ts';

export function buildMetrics(raw: unknown, site: Site): MetricsConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'metrics', expected: 'an object such as {"port": "9100"} or {"path": "/metrics"}', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const use = checkKeys(raw, site, 'metrics', METRICS_KEYS, []);
  const get = <T>(key: string, conv: (v: unknown, s: Site, k: string) => T | undefined): T | undefined =>
    use.has(key) ? conv(raw[key], site.at(key), key) : undefined;
  const path = get('path', asPlainPath) ?? '/metrics';
  const port = get('port', (v, s, k) => asInt(v, s, k, 0, 65535));
  const iface = get('interface', asString);
  if (iface !== undefined && port === undefined && use.has('interface')) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('interface').where, key: 'interface', detail: 'only applies with "port" (without one the metrics are served on every vhost)' }));
  }
  if (site.diag.errors.length > errorsBefore) return undefined;
  return { path, port, iface, source: site.source };
}
