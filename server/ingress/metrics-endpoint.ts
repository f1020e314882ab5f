/** @module Where the metrics are served: a listener of their own (the "metrics" block's port), or a path on every vhost. */
import type { Logger } from 'pino';
import type { GlobalConfig } from '../config/model.ts';
import { describeError, tswsError } from '../base/errors.ts';
import { statusLine } from '../http/exchange.ts';
import type { OpsDeps } from './ops-routes.ts';
import { openListener, type ListenerInfo, type ListenPolicy } from './listeners.ts';
import type { ServerState } from '../metrics/server-state.ts';
import type { HttpRes, ListenerHandle, ListenerHandlers, WsTransportOptions } from '../transport/types.ts';
import { metricsFor, type MetricsOptions, type MetricsSource } from '../metrics/prometheus.ts';

/** What the vhost listeners answer before their mounts: health always, metrics when they have no port of their own. */
export function opsDeps(global: GlobalConfig, state: ServerState, opts: MetricsOptions, log: Logger): OpsDeps {
  const m = global.metrics;
  const onVhosts = m !== undefined && m.port === undefined;
  return { state, metrics: onVhosts ? { path: m.path, source: metricsFor(state, opts) } : undefined, log };
}

/**
 * The metrics listener, when the "metrics" block names a port: it answers the
 * metrics path and nothing else (404), upgrades included, so it can be opened
 * to a scraper's network without exposing any vhost.
 */
export async function openMetricsPort(
  global: GlobalConfig,
  state: ServerState,
  opts: MetricsOptions,
  log: Logger,
  policy: ListenPolicy,
  /** The server's transport makes the listener (uWS.js, or the fake in tests). */
  createListener: (handlers: ListenerHandlers, ws: WsTransportOptions) => ListenerHandle,
): Promise<{ readonly info: ListenerInfo; readonly handle: ListenerHandle } | undefined> {
  const m = global.metrics;
  if (m?.port === undefined) return undefined;
  const source = metricsFor(state, opts);
  const answer = (res: HttpRes, path: string, method: string) => serveScrape(res, path, method, m.path, source, global.serverString, log);
  const never = () => undefined;
  const handle = createListener(
    {
      http: (res, req) => answer(res, req.getUrl(), req.getCaseSensitiveMethod()),
      // No websockets here: an upgrade is answered like a path this port does not serve.
      upgrade: (res) => answer(res, '', 'GET'),
      open: never,
      message: never,
      drain: never,
      pong: never,
      close: never,
    },
    { maxPayloadLength: 1024, idleTimeout: 0, maxBackpressure: 64 * 1024, compressions: [] },
  );
  const key = `metrics ${m.iface ?? '*'}:${m.port}`;
  let info: ListenerInfo;
  try {
    info = await openListener({ key, address: { port: m.port, iface: m.iface, unixSocket: false, source: m.source }, vhosts: [], tls: undefined }, handle, policy);
  } catch (err) {
    handle.closeAll();
    throw err;
  }
  log.info({ event: 'listening', listener: key, address: info.address, port: info.port, tls: false, vhosts: [], metrics: m.path }, `serving metrics on http ${info.address}${m.path}`);
  return { info, handle };
}

function serveScrape(res: HttpRes, path: string, method: string, metricsPath: string, source: MetricsSource, serverString: string, log: Logger): void {
  const head = method === 'HEAD';
  const reply = (status: number, contentType: string, body: string, extra: readonly (readonly [string, string])[] = []): void =>
    void res.cork(() => {
      res.writeStatus(statusLine(status)).writeHeader('Server', serverString).writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-store');
      for (const [k, v] of extra) res.writeHeader(k, v);
      if (head) {
        res.writeHeader('Content-Length', String(Buffer.byteLength(body)));
        res.endWithoutBody();
      } else res.end(body);
    });
  if (path !== metricsPath) return reply(404, 'text/plain; charset=utf-8', `Only ${metricsPath} is served on this port.\n`);
  if (method !== 'GET' && !head) return reply(405, 'text/plain; charset=utf-8', 'Only GET and HEAD are answered here.\n', [['Allow', 'GET, HEAD']]);
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  source.render().then(
    (text) => {
      if (!aborted) reply(200, source.contentType, text);
    },
    (err: unknown) => {
      const e = tswsError('TSWS_ERR_METRICS_RENDER', { reason: describeError(err) }, err);
      log.error({ err, code: e.code }, e.message);
      if (!aborted) reply(500, 'text/plain; charset=utf-8', 'The metrics could not be rendered.\n');
    },
  );
}
