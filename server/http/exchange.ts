/** @module One HTTP request/response: status line, headers, body, abort safety and its access-log line. */
import { STATUS_CODES } from 'node:http';
import type { MountConfig, VhostConfig } from '../config/model.ts';
import { countResponse } from '../metrics/counters.ts';
import type { HttpRes } from '../transport/types.ts';
import type { Vhost } from '../vhost/vhost.ts';
import type { InFlight } from './inflight.ts';

export type HeaderList = readonly (readonly [string, string])[];

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
  readonly peer: string;
  readonly referer: string;
  readonly userAgent: string;
  readonly serverString: string;
  aborted = false;
  /** Configured headers for every response: the vhost's, then the mount's once it is known. */
  #extra: HeaderList;
  #done = false;
  #abortHandlers: (() => void)[] | undefined;
  #watching = false;

  readonly #inflight: InFlight | undefined;

  /** `inflight` counts this exchange until it finishes, for a stop that lets responses complete. */
  constructor(res: HttpRes, vhost: Vhost, method: string, uri: string, peer: string, referer: string, userAgent: string, serverString: string, inflight?: InFlight) {
    this.#inflight = inflight;
    inflight?.add(this);
    this.res = res;
    this.vhost = vhost;
    this.method = method;
    this.uri = uri;
    this.peer = peer;
    this.referer = referer;
    this.userAgent = userAgent;
    this.serverString = serverString;
    this.#extra = vhost.config.headers;
  }

  /** The request is served by `mount`: its "headers" join (and win over) the vhost's. */
  useMount(mount: MountConfig): void {
    this.#extra = configuredHeaders(this.vhost.config, mount);
  }

  get done(): boolean {
    return this.#done;
  }

  get isHead(): boolean {
    return this.method === 'HEAD';
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
   * callback). `closeConnection` when a request body is left unread.
   */
  send(status: number, headers: HeaderList, body: string | Buffer = '', opts?: { closeConnection?: boolean }): void {
    if (this.aborted || this.#done) return;
    this.res.cork(() => {
      this.writeHead(status, headers);
      if (this.isHead) this.endWithoutBody(Buffer.byteLength(body));
      else this.res.end(body, opts?.closeConnection ?? false);
    });
    this.finish(status, this.isHead ? 0 : Buffer.byteLength(body));
  }

  /** Ends a HEAD (or 304) response: uWS.js sends a body for HEAD unless told not to. */
  endWithoutBody(contentLength?: number): void {
    if (contentLength !== undefined) this.res.writeHeader('Content-Length', String(contentLength));
    this.res.endWithoutBody();
  }

  /** Plain error or notice page. */
  sendStatus(status: number, message = STATUS_CODES[status] ?? '', extra: HeaderList = [], opts?: { closeConnection?: boolean }): void {
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
