/** @module Paths answered before any mount: the vhost's health path and, without a port of their own, the metrics. */
import type { Logger } from 'pino';
import { describeError, tswsError } from '../base/errors.ts';
import type { MetricsSource } from '../metrics/prometheus.ts';
import type { HttpExchange } from '../http/exchange.ts';

export interface OpsDeps {
  /** Read per request: the lifecycle code flips it when the server starts stopping. */
  readonly state: { readonly draining: boolean };
  /** Set when the metrics are served on every vhost (the "metrics" block has no "port"). */
  readonly metrics: { readonly path: string; readonly source: MetricsSource } | undefined;
  readonly log: Logger;
}

const NO_STORE: readonly [string, string] = ['Cache-Control', 'no-store'];

/** True when `path` (as requested, before normalisation) is one of ours and has been answered. */
export function serveOps(ex: HttpExchange, path: string, deps: OpsDeps): boolean {
  const health = ex.vhost.config.healthPath;
  const metrics = deps.metrics;
  if (path === health) {
    if (!refuseMethod(ex)) sendHealth(ex, deps.state.draining);
    return true;
  }
  if (metrics && path === metrics.path) {
    if (!refuseMethod(ex)) sendMetrics(ex, metrics.source, deps.log);
    return true;
  }
  return false;
}

function refuseMethod(ex: HttpExchange): boolean {
  if (ex.method === 'GET' || ex.method === 'HEAD') return false;
  ex.sendStatus(405, 'Only GET and HEAD are answered here.', [['Allow', 'GET, HEAD']]);
  return true;
}

/**
 * 200 while the server accepts traffic; 503 once it is draining, so a load
 * balancer stops sending new clients before the listeners close. Never cached:
 * a proxy answering from cache would hide the change.
 */
export function sendHealth(ex: HttpExchange, draining: boolean): void {
  ex.send(draining ? 503 : 200, [['Content-Type', 'text/plain; charset=utf-8'], NO_STORE], draining ? 'draining\n' : 'ok\n');
}

function sendMetrics(ex: HttpExchange, source: MetricsSource, log: Logger): void {
  // Rendering is asynchronous (prom-client's collect may be): the abort handler must be in place first.
  ex.watchAbort();
  source.render().then(
    (text) => ex.send(200, [['Content-Type', source.contentType], NO_STORE], text),
    (err: unknown) => {
      const e = tswsError('TSWS_ERR_METRICS_RENDER', { reason: describeError(err) }, err);
      log.error({ err, code: e.code }, e.message);
      ex.sendStatus(e.httpStatus ?? 500, 'The metrics could not be rendered.');
    },
  );
}
