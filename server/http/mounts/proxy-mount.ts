/** @module http(s):// mounts: reverse proxy for HTTP requests over kept-alive upstream connections, streamed both ways with backpressure. */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Origin } from '../../config/model.ts';
import { describeError, tswsError } from '../../base/errors.ts';
import { refuseBody } from '../body-refusal.ts';
import type { HttpExchange } from '../exchange.ts';
import type { MountRequest } from '../mount-request.ts';
import { PROXY_CONNECT_TIMEOUT_MS, forwardHeaderLines, responseHeaders } from './proxy-target.ts';
import { upstreamPath, upstreamRoute, type UpstreamRoute } from './proxy-upstream.ts';
import { DEFAULT_BODY_LIMIT, RequestBody, checkBodyLimit, unreadBody } from '../request-body.ts';
import { ResponseStream, sendHead } from '../response-stream.ts';

type ProxyOrigin = Extract<Origin, { kind: 'proxy' }>;

/** Methods RFC 9110 9.2.2 calls idempotent: the only ones sent a second time (see UpstreamCall.onError). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function serveProxyMount(m: MountRequest<ProxyOrigin>): void {
  const { ex, req, mount, rest, query, deps } = m;
  // As lws does for every mount but cgi:// and callback://: "/mnt" is the directory "/mnt/".
  if (rest === '' && mount.mountpoint !== '/') return ex.redirect(301, `${m.path}/${query ? `?${query}` : ''}`);
  const check = checkBodyLimit(m.framing, DEFAULT_BODY_LIMIT);
  if (!check.ok) return refuseBody(ex, check, DEFAULT_BODY_LIMIT, deps.log, unreadBody(ex.res, m.framing));

  // Read everything from `req` now: it is gone once this function returns.
  const route = upstreamRoute(mount);
  const received: string[] = [];
  req.forEach((k, v) => void received.push(k, v));
  // A chunked upload stays chunked upstream: undici frames a body of unknown length so.
  const headers = forwardHeaderLines(received, route.host, {
    peer: ex.peer,
    proto: deps.listener.tls ? 'https' : 'http',
    dropAuthorization: mount.basicAuth !== undefined,
  });
  // No body (most requests): no reader, no stall timer, nothing to stream.
  const hasBody = check.chunked || (check.length ?? 0) > 0;
  const body = hasBody ? new RequestBody(ex.res, DEFAULT_BODY_LIMIT, { stallMs: deps.bodyStallMs, clock: deps.clock }) : undefined;
  if (body) ex.holdBody(body);
  new UpstreamCall(ex, route, upstreamPath(route, rest, query), headers, body, deps.log).start();
}

/** The upload as undici reads it: chunks pushed as they arrive, the client paused while undici's buffer is full. */
class Upload extends Readable {
  readonly #body: RequestBody;
  constructor(body: RequestBody) {
    super();
    this.#body = body;
  }
  override _read(): void {
    this.#body.resume();
  }
}

/**
 * One proxied request: undici's dispatch handler and the response stream's
 * source. A class rather than closures: one object per request.
 *
 * Why undici's older handler API (onConnect/onHeaders/onData/onComplete/
 * onError, marked deprecated in its types but what its Client itself calls):
 * the newer controller API is an adapter over it (UnwrapHandler) that adds a
 * wrapper and a controller per request and parses every response's header
 * lines into an object (and the trailers into another) that a proxy never
 * reads: it filters the raw lines itself. 4-5 % of tsws's CPU per proxied
 * request in `npm run bench:profile -- proxy`.
 *
 * Backpressure: a full client makes onData answer false (undici stops reading
 * the upstream socket); its drain calls the `resume` undici gave onHeaders.
 */
class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly #ex: HttpExchange;
  readonly #route: UpstreamRoute;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #body: RequestBody | undefined;
  readonly #log: Logger;
  /** Cancels the request on its connection (undici destroys the socket); set once it has one. */
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #stream: ResponseStream | undefined;
  /** The client cannot take more: onData tells undici to stop reading. */
  #paused = false;
  /** The client went away (or the upload was refused): the upstream request is dropped. */
  #dropped = false;
  #retried = false;

  constructor(ex: HttpExchange, route: UpstreamRoute, path: string, headers: string[], body: RequestBody | undefined, log: Logger) {
    this.#ex = ex;
    this.#route = route;
    this.#body = body;
    this.#log = log;
    const upload = body ? new Upload(body) : null;
    this.#options = { origin: route.origin, method: ex.method as Dispatcher.HttpMethod, path, headers, body: upload };
    if (body && upload) {
      body.consume({
        chunk: (c) => {
          if (!upload.push(c)) body.pause();
        },
        end: () => upload.push(null),
        tooLarge: (size) => {
          this.#drop();
          refuseBody(ex, { ok: false, status: 413, detail: `the body passed ${size} bytes; the limit here is ${body.limit}` }, body.limit, log, body);
        },
      });
    }
    ex.watchAbort(() => {
      this.#drop();
      body?.detach();
    });
  }

  start(): void {
    this.#route.pool.dispatch(this.#options, this);
  }

  #drop(): void {
    this.#dropped = true;
    this.#abort?.(new Error('the client went away'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#dropped) abort(new Error('the client went away'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx (100 Continue, 103 Early Hints) are the upstream's business, as node:http's client treated them.
    if (status < 200) return true;
    const ex = this.#ex;
    if (ex.aborted || ex.done) {
      this.#abort?.(new Error('the response is no longer wanted'));
      return false;
    }
    this.#resume = resume;
    const { headers, length } = responseHeaders(raw, this.#route.rewriteLocation);
    if (ex.isHead || status === 204 || status === 304) {
      // No body whatever the headers say (RFC 9110 6.4.1); undici reads none for these.
      if (ex.isHead) {
        sendHead(ex, status, headers, length);
        return true;
      }
      ex.releaseBody();
      ex.res.cork(() => {
        ex.writeHead(status, headers);
        ex.endWithoutBody();
      });
      ex.finish(status, 0);
      return true;
    }
    this.#stream = new ResponseStream(ex, status, headers, length, this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#stream?.write(chunk);
    return !this.#paused;
  }

  onComplete(): void {
    this.#stream?.end();
  }

  onError(err: Error): void {
    const ex = this.#ex;
    if (this.#dropped || ex.aborted || ex.done) return;
    // Mid-body the status line is long gone: cutting the connection is the only honest signal.
    if (this.#stream) {
      this.#fail(502, 'the upstream closed the connection in the middle of the response', err);
      return this.#stream.cut();
    }
    if (this.#mayRetry(err)) {
      this.#retried = true;
      this.#abort = undefined;
      return this.start();
    }
    const code = (err as { code?: string }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT') this.#fail(504, 'connect timeout', err);
    else this.#fail(502, describeError(err), err);
  }

  /**
   * A kept-alive connection can be closed by the upstream just as a request
   * goes out on it (its idle timeout racing our reuse). Such a request is
   * sent again on a fresh connection once, as nginx does with its cached
   * upstream connections, but only when sending it twice cannot do harm: an
   * idempotent method, no body, no answer started, and the connection had
   * carried an earlier response (so it was a reused one). Anything else is
   * answered 502: never lost silently, never sent twice.
   */
  #mayRetry(err: Error): boolean {
    if (this.#retried || this.#body || !IDEMPOTENT.has(this.#ex.method)) return false;
    const e = err as { code?: string; socket?: { bytesRead?: number } };
    return e.code === 'UND_ERR_SOCKET' && (e.socket?.bytesRead ?? 0) > 0;
  }

  /** Logs the failure; before any of the response went out, answers it with `status`. */
  #fail(status: 502 | 504, reason: string, cause: unknown): void {
    const ex = this.#ex;
    const e =
      status === 504
        ? tswsError('TSWS_ERR_PROXY_TIMEOUT', { vhost: ex.vhost.name, upstream: this.#route.origin, seconds: PROXY_CONNECT_TIMEOUT_MS / 1000 })
        : tswsError('TSWS_ERR_PROXY_UPSTREAM', { vhost: ex.vhost.name, upstream: this.#route.origin, reason }, cause);
    this.#log.error({ code: e.code, vhost: ex.vhost.name, uri: ex.uri }, e.message);
    if (this.#stream) return;
    // The upload may be half read (and paused for the upstream): a lingering close reads the rest.
    const message = status === 504 ? 'The upstream server did not answer in time.' : 'The upstream server could not be reached.';
    ex.sendStatus(e.httpStatus ?? status, message, [], { unread: this.#body });
  }

  /** FlowSource: the client is full; called inside onData, whose answer then stops undici reading the upstream socket. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }
}
