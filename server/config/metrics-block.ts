/** @module Builds the MetricsConfig from the global "metrics" object. */
import { tswsError } from '../base/errors.ts';
import { isPlainObject } from './coerce.ts';
import type { ReadContext } from './key-spec.ts';
import type { MetricsConfig } from './model.ts';
import { readBlock } from './read-block.ts';
import { METRICS_KEYS } from './schema.ts';
import type { Nested } from './value-types.ts';

export function buildMetrics({ raw, site }: Nested, ctx: ReadContext): MetricsConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'metrics', expected: 'an object such as {"port": "9100"} or {"path": "/metrics"}', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const v = readBlock(raw, site, 'metrics', METRICS_KEYS, [], ctx);
  if (v.interface !== undefined && v.port === undefined) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('interface').where, key: 'interface', detail: 'only applies with "port" (without one the metrics are served on every vhost)' }));
  }
  if (site.diag.errors.length > errorsBefore) return undefined;
  return { path: v.path, port: v.port, iface: v.interface, source: site.source };
}
