/** @module One HTTP request/response: status line, headers, body, abort safety and its access-log line. */
import { STATUS_CODES } from 'node:http';
import type { MountConfig, VhostConfig } from '../config/model.ts';
import { countResponse } from '../metrics/counters.ts';
import { remoteAddress, type HttpRes } from '../transport/types.ts';
import type { Vhost } from '../vhost/vhost.ts';
import type { InFlight } from './inflight.ts';

/**
 * Response header lines. A value may be bytes: an upstream's, passed on as
 * it came (no decoding to a string and encoding back, which would also turn
 * obs-text bytes into their UTF-8 form).
 */
export type HeaderList = readonly (readonly [string, string | Uint8Array])[];

/** A request body still arriving when the response is ready (RequestBody). */
export interface UnreadBody {
  readonly ended: boolean;
  discardRest(done: (complete: boolean) => void): void;
  detach(): void;
  release(): void;
}

export interface SendOptions {
  /** Close at once, unread bytes and all: only for a request whose framing cannot be trusted. */
  readonly closeConnection?: boolean;
  /** The request's body, maybe not all read: answered with a lingering close when it is not (see #linger). */
  readonly unread?: UnreadBody | undefined;
}

const statusLines = new Map<number, string>();
export function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (!line) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    statusLines.set(status, line);
  }
  return line;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function hasHeader(list: HeaderList, name: string): boolean {
  for (const [k] of list) if (k.length === name.length && k.toLowerCase() === name.toLowerCase()) return true;
  return false;
}

const merged = new WeakMap<MountConfig, HeaderList>();
function configuredHeaders(vhost: VhostConfig, mount: MountConfig): HeaderList {
  if (mount.headers.length === 0) return vhost.headers;
  let list = merged.get(mount);
  if (!list) {
    list = [...vhost.headers.filter(([k]) => !hasHeader(mount.headers, k)), ...mount.headers];
    merged.set(mount, list);
  }
  return list;
}

/**
 * The head writeHead(status, headers) writes on an exchange with this Server
 * string and these configured headers, in the same order, as the bytes of
 * one writeStatus call: uWS.js writes "HTTP/1.1 " + status + "\r\n" and each
 * writeHeader as key + ": " + value + "\r\n", so a status followed by the
 * header lines is the same head on the wire. For a head that repeats (a
 * cached file's), rendered once: one transport call and no string
 * conversion per request instead of one call per header. `contentLength`
 * adds the Content-Length line endWithoutBody(length) would write.
 */
export function renderHead(status: number, serverString: string, extra: HeaderList, headers: HeaderList, contentLength?: number): Buffer {
  const lines = [statusLine(status), `Server: ${serverString}`];
  for (const [k, v] of headers) if (extra.length === 0 || !hasHeader(extra, k)) lines.push(`${k}: ${v}`);
  for (const [k, v] of extra) lines.push(`${k}: ${v}`);
  if (contentLength !== undefined) lines.push(`Content-Length: ${contentLength}`);
  // UTF-8, as uWS.js converts a string argument (String::Utf8Value).
  return Buffer.from(lines.join('\r\n'));
}

/** See beforePluginCode. */
const UNWOUND = () => undefined;

/**
 * Everything about the request is copied out of the transport's request
 * object up front (it is only valid during the first callback). After
 * `aborted` turns true nothing may touch `res` again.
 */
export class HttpExchange {
  readonly res: HttpRes;
  readonly vhost: Vhost;
  readonly method: string;
  /** Path plus "?query" as requested, for the log and redirects. */
  readonly uri: string;
  readonly referer: string;
  readonly userAgent: string;
  readonly serverString: string;
  aborted = false;
  /**
   * True while the transport's request callback runs: uWS.js has the socket
   * corked then (it corks on every data event), so send() need not cork it.
   */
  inRequestCallback = false;
  #peer: string | undefined;
  /** Configured headers for every response: the vhost's, then the mount's once it is known. */
  #extra: HeaderList;
  #done = false;
  /** Set once the exchange outlives its request callback (trackIn). */
  #inflight: InFlight | undefined;
  #abortHandlers: (() => void)[] | undefined;
  #watching = false;
  /** The request's body reader, told before the response ends (releaseBody). */
  #body: UnreadBody | undefined;

  /**
   * `peer` may be left out when nothing will log it: it is then read from the
   * response on first use, which must happen while the response is live
   * (uWS.js copies the address into a new ArrayBuffer, ~1 µs per call).
   * `inflight` counts this exchange from now until it finishes (trackIn).
   */
  constructor(res: HttpRes, vhost: Vhost, method: string, uri: string, peer: string | undefined, referer: string, userAgent: string, serverString: string, inflight?: InFlight) {
    this.res = res;
    this.vhost = vhost;
    this.method = method;
    this.uri = uri;
    this.#peer = peer;
    this.referer = referer;
    this.userAgent = userAgent;
    this.serverString = serverString;
    this.#extra = vhost.config.headers;
    if (inflight) this.trackIn(inflight);
  }

  /** The configured headers this exchange's responses carry (renderHead's `extra`). */
  get configuredHeaders(): HeaderList {
    return this.#extra;
  }

  /**
   * Counts this exchange in `inflight` until it finishes, for a stop that lets
   * responses complete. Only an exchange still open when its request callback
   * returns needs it: one answered inside the callback never was in flight
   * for anyone to see, and skips the set's add and delete.
   */
  trackIn(inflight: InFlight): void {
    if (this.#done || this.#inflight) return;
    this.#inflight = inflight;
    inflight.add(this);
  }

  /** The request is served by `mount`: its "headers" join (and win over) the vhost's. */
  useMount(mount: MountConfig): void {
    this.#extra = configuredHeaders(this.vhost.config, mount);
  }

  /** Read from the response on first use when not given: an aborted response may not be touched, so it reads as "". */
  get peer(): string {
    if (this.#peer === undefined) this.#peer = this.aborted ? '' : remoteAddress(this.res);
    return this.#peer;
  }

  get done(): boolean {
    return this.#done;
  }

  get isHead(): boolean {
    return this.method === 'HEAD';
  }

  /** The body reader of this request: releaseBody() tells it when the response ends. */
  holdBody(body: UnreadBody): void {
    this.#body = body;
  }

  /**
   * Call right before ending or cutting the response: the upload is resumed
   * if it was paused and its reader never touches the response again.
   */
  releaseBody(): void {
    this.#body?.release();
  }

  /**
   * Before plugin code that runs inside the transport's request handler
   * (filter, session, checkAccess): uWS.js aborts the whole process when a
   * handler returns without responding or an onAborted handler, and a
   * callback the watchdog interrupts unwinds the handler just so. A shared
   * no-op is enough, no closure per request: watchAbort() replaces it when
   * the answer comes later. Such a client gets no answer; the stop cuts it.
   */
  beforePluginCode(): void {
    if (!this.#watching) this.res.onAborted(UNWOUND);
  }

  /** Required before any async work: uWS.js terminates a response left without an abort handler. */
  watchAbort(onAbort?: () => void): void {
    if (onAbort) (this.#abortHandlers ??= []).push(onAbort);
    if (this.#watching) return;
    this.#watching = true;
    this.res.onAborted(() => {
      this.aborted = true;
      for (const h of this.#abortHandlers ?? []) h();
      if (!this.#done) this.finish(499, 0);
    });
  }

  writeHead(status: number, headers: HeaderList): void {
    const res = this.res;
    res.writeStatus(statusLine(status));
    res.writeHeader('Server', this.serverString);
    const extra = this.#extra;
    if (extra.length === 0) {
      for (const [k, v] of headers) res.writeHeader(k, v);
      return;
    }
    // Configured headers win over a handler's (a script's, an upstream's) of the same name.
    for (const [k, v] of headers) if (!hasHeader(extra, k)) res.writeHeader(k, v);
    for (const [k, v] of extra) res.writeHeader(k, v);
  }

  /**
   * Whole response in one go (corks itself when called outside the request
   * callback). `unread`: the request body, which may still be arriving.
   */
  send(status: number, headers: HeaderList, body: string | Buffer = '', opts?: SendOptions): void {
    if (this.aborted || this.#done) return;
    const unread = opts?.unread;
    if (unread && !unread.ended && !this.isHead && body.length > 0) return this.#linger(status, headers, body, unread);
    this.releaseBody();
    if (this.inRequestCallback) this.#writeWhole(status, headers, body, opts?.closeConnection ?? false);
    else this.res.cork(() => this.#writeWhole(status, headers, body, opts?.closeConnection ?? false));
    this.finish(status, this.isHead ? 0 : Buffer.byteLength(body));
  }

  /**
   * send() with a head from renderHead for this exchange's serverString and
   * configuredHeaders: the head in one transport call, then the body.
   * Without a body (HEAD, 304) the response ends without one; the head
   * carries Content-Length when it should.
   */
  sendRendered(status: number, head: Buffer, body: Buffer | undefined): void {
    if (this.aborted || this.#done) return;
    this.releaseBody();
    if (this.inRequestCallback) this.#writeRendered(head, body);
    else this.res.cork(() => this.#writeRendered(head, body));
    this.finish(status, body === undefined ? 0 : body.length);
  }

  #writeRendered(head: Buffer, body: Buffer | undefined): void {
    this.res.writeStatus(head);
    if (body === undefined) this.res.endWithoutBody();
    else this.res.end(body);
  }

  /**
   * Answering while the request body still arrives. Closing now, with bytes
   * unread, makes the kernel reset the connection, and a client still
   * sending then often never reads the answer (EPIPE or ECONNRESET instead of
   * the 413). So, as nginx does (lingering close): the head and the body go
   * out now as one chunk, the rest of the upload is read and dropped, and the
   * response ends when the upload has, or the connection is closed at a
   * bound (RequestBody.discardRest). The head says "Connection: close".
   *
   * Ending with end('', true) is not an option: after write() this uWS.js
   * build puts its "Connection: close" header line into the body, between
   * the last chunk and the terminating one. So the response ends with
   * end(''), well framed; the upload was read to its end by then, and the
   * connection is an ordinary idle keep-alive one until the client closes
   * it as told (or uWS.js's idle timeout does).
   */
  #linger(status: number, headers: HeaderList, body: string | Buffer, unread: UnreadBody): void {
    this.watchAbort(() => unread.detach());
    const head = () => {
      this.writeHead(status, headers);
      this.res.writeHeader('Connection', 'close');
      this.res.write(body);
    };
    if (this.inRequestCallback) head();
    else this.res.cork(head);
    this.finish(status, Buffer.byteLength(body));
    unread.discardRest((complete) => {
      if (this.aborted) return;
      if (complete) this.res.cork(() => this.res.end(''));
      else this.res.close();
    });
  }

  #writeWhole(status: number, headers: HeaderList, body: string | Buffer, closeConnection: boolean): void {
    this.writeHead(status, headers);
    if (this.isHead) this.endWithoutBody(Buffer.byteLength(body));
    else this.res.end(body, closeConnection);
  }

  /** Ends a HEAD (or 304) response: uWS.js sends a body for HEAD unless told not to. */
  endWithoutBody(contentLength?: number): void {
    if (contentLength !== undefined) this.res.writeHeader('Content-Length', String(contentLength));
    this.res.endWithoutBody();
  }

  /** Plain error or notice page. */
  sendStatus(status: number, message = STATUS_CODES[status] ?? '', extra: HeaderList = [], opts?: SendOptions): void {
    const body = `<!DOCTYPE html><html><head><title>${status}</title></head><body><h1>${status} ${escapeHtml(STATUS_CODES[status] ?? '')}</h1><p>${escapeHtml(message)}</p></body></html>\n`;
    this.send(status, [['Content-Type', 'text/html; charset=utf-8'], ...extra], body, opts);
  }

  redirect(status: 301 | 302 | 307 | 308, location: string): void {
    this.send(status, [['Location', location], ['Content-Type', 'text/html; charset=utf-8']], `<a href="${escapeHtml(location)}">${escapeHtml(location)}</a>\n`);
  }

  /** Marks the response complete, counts it and writes its access-log line. */
  finish(status: number, bytes: number): void {
    if (this.#done) return;
    this.#done = true;
    countResponse(this.vhost.httpCounters, status, bytes);
    this.#log(status, bytes);
    this.#inflight?.delete(this);
  }

  #log(status: number, bytes: number): void {
    this.vhost.accessLog?.write({ peer: this.peer, method: this.method, uri: this.uri, status, bytes, referer: this.referer, userAgent: this.userAgent });
  }
}
