/** @module http(s):// mounts: reverse proxy for HTTP requests, streamed both ways with backpressure. */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { MountConfig, Origin } from '../../config/model.ts';
import { describeError, tswsError } from '../../base/errors.ts';
import type { PeerRequest } from '../../plugin/api.ts';
import type { WsSession } from '../../session/ws-session.ts';
import type { HttpRes, UpgradeContext } from '../../transport/types.ts';
import { refuseBody } from '../body-refusal.ts';
import type { HttpExchange } from '../exchange.ts';
import type { MountRequest } from '../mount-request.ts';
import { PROXY_CONNECT_TIMEOUT_MS, forwardHeaders, locationRewriter, responseHeaders, upstreamUrl } from './proxy-target.ts';
import { DEFAULT_BODY_LIMIT, RequestBody, checkBodyLimit, unreadBody } from '../request-body.ts';
import { ResponseStream, sendHead } from '../response-stream.ts';


type ProxyOrigin = Extract<Origin, { kind: 'proxy' }>;

export function serveProxyMount(m: MountRequest<ProxyOrigin>): void {
  const { ex, req, mount, rest, query, deps } = m;
  // As lws does for every mount but cgi:// and callback://: "/mnt" is the directory "/mnt/".
  if (rest === '' && mount.mountpoint !== '/') return ex.redirect(301, `${m.path}/${query ? `?${query}` : ''}`);
  const check = checkBodyLimit(m.framing, DEFAULT_BODY_LIMIT);
  if (!check.ok) return refuseBody(ex, check, DEFAULT_BODY_LIMIT, deps.log, unreadBody(ex.res, m.framing));

  // Read everything from `req` now: it is gone once this function returns.
  const target = upstreamUrl(mount.origin.url, rest, query);
  const received: [string, string][] = [];
  req.forEach((k, v) => void received.push([k, v]));
  const headers = forwardHeaders(received, target.host, {
    peer: ex.peer,
    proto: deps.listener.tls ? 'https' : 'http',
    dropAuthorization: mount.basicAuth !== undefined,
  });
  // A chunked upload stays chunked upstream (Node frames it when told so).
  if (check.chunked) headers.push(['transfer-encoding', 'chunked']);
  const body = new RequestBody(ex.res, DEFAULT_BODY_LIMIT, { stallMs: deps.bodyStallMs, clock: deps.clock });
  ex.holdBody(body);
  proxyHttp(ex, target, headers, body, mount, deps.log);
}

function proxyHttp(ex: HttpExchange, target: URL, headers: [string, string][], body: RequestBody, mount: MountConfig & { readonly origin: ProxyOrigin }, log: Logger): void {
  const upstreamText = target.origin;
  let stream: ResponseStream | undefined;
  const fail = (status: 502 | 504, reason: string, cause?: unknown) => {
    const e =
      status === 504
        ? tswsError('TSWS_ERR_PROXY_TIMEOUT', { vhost: ex.vhost.name, upstream: upstreamText, seconds: PROXY_CONNECT_TIMEOUT_MS / 1000 })
        : tswsError('TSWS_ERR_PROXY_UPSTREAM', { vhost: ex.vhost.name, upstream: upstreamText, reason }, cause);
    if (ex.aborted || ex.done) return;
    log.error({ code: e.code, vhost: ex.vhost.name, uri: ex.uri }, e.message);
    // Mid-body the status line is long gone: cutting the connection is the only honest signal.
    if (stream) return stream.cut();
    // The upload may be half read (and paused for the upstream): a lingering close reads the rest.
    const message = status === 504 ? 'The upstream server did not answer in time.' : 'The upstream server could not be reached.';
    ex.sendStatus(e.httpStatus ?? status, message, [], { unread: body });
  };

  const request = (target.protocol === 'https:' ? https : http).request(target, { method: ex.method, headers: headers.flat() });
  ex.watchAbort(() => {
    request.destroy();
    body.detach();
  });
  let timedOut = false;
  request.on('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy();
    }, PROXY_CONNECT_TIMEOUT_MS);
    const clear = () => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
  });
  request.on('error', (err) => (timedOut ? fail(504, 'connect timeout') : fail(502, describeError(err), err)));

  body.consume({
    chunk: (c) => {
      if (!request.write(c)) {
        body.pause();
        request.once('drain', () => body.resume());
      }
    },
    end: () => request.end(),
    tooLarge: (received) => {
      request.destroy();
      refuseBody(ex, { ok: false, status: 413, detail: `the body passed ${received} bytes; the limit here is ${body.limit}` }, body.limit, log, body);
    },
  });

  request.on('response', (up) => {
    if (ex.aborted || ex.done) {
      up.destroy();
      return;
    }
    const status = up.statusCode ?? 502;
    const list = responseHeaders(up.rawHeaders, locationRewriter(mount.origin.url, mount.mountpoint));
    const lengthHeader = up.headers['content-length'];
    const length = lengthHeader !== undefined && up.headers['transfer-encoding'] === undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    if (ex.isHead || status === 204 || status === 304) {
      // No body whatever the headers say (RFC 9110 6.4.1).
      up.resume();
      if (ex.isHead) return sendHead(ex, status, list, length);
      ex.releaseBody();
      ex.res.cork(() => {
        ex.writeHead(status, list);
        ex.endWithoutBody();
      });
      return ex.finish(status, 0);
    }
    const s = new ResponseStream(ex, status, list, length, up);
    stream = s;
    up.on('data', (chunk: Buffer) => s.write(chunk));
    // A premature close also emits 'error' on the response; 'close' below deals with it.
    up.on('error', () => undefined);
    up.on('end', () => s.end());
    up.on('close', () => {
      if (!up.complete) fail(502, 'the upstream closed the connection in the middle of the response');
    });
  });
}
