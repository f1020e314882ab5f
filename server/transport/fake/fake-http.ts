/** @module An HTTP request and response of the fake transport: the response records what was written and lets a test abort, send a body, or stall the reader. */
import type { Bytes, HttpReq, HttpRes, ListenerHandlers, SocketData, UpgradeContext, WsCompression, WsTransportOptions } from '../types.ts';
import { FakeSocket, bytesOf } from './fake-socket.ts';

export interface FakeRequestInit {
  readonly method?: string;
  /** Path, with "?query" if any. */
  readonly url?: string;
  /** Header names in any case; they are looked up in lower case, as uWS.js does. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Readable only while its handler runs, in uWS.js; the fake does not enforce that (the framework copies what it needs first). */
export class FakeRequest implements HttpReq {
  readonly #method: string;
  readonly #path: string;
  readonly #query: string;
  readonly #headers: ReadonlyMap<string, string>;

  constructor(init: FakeRequestInit = {}) {
    this.#method = init.method ?? 'GET';
    const url = init.url ?? '/';
    const q = url.indexOf('?');
    this.#path = q < 0 ? url : url.slice(0, q);
    this.#query = q < 0 ? '' : url.slice(q + 1);
    this.#headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  }

  getHeader(lowerCaseKey: string | Uint8Array): string {
    return this.#headers.get(typeof lowerCaseKey === 'string' ? lowerCaseKey : Buffer.from(lowerCaseKey).toString()) ?? '';
  }

  getUrl(): string {
    return this.#path;
  }

  getMethod(): string {
    return this.#method.toLowerCase();
  }

  getCaseSensitiveMethod(): string {
    return this.#method;
  }

  getQuery(): string {
    return this.#query;
  }

  forEach(cb: (key: string, value: string) => void): void {
    for (const [k, v] of this.#headers) cb(k, v);
  }
}

/** Where an upgraded response's socket goes: its listener's handlers, options and open sockets. */
export interface UpgradeSite {
  readonly handlers: ListenerHandlers;
  readonly options: WsTransportOptions;
  readonly sockets: Set<FakeSocket>;
}

/**
 * Records status, headers and body. As uWS.js does, it throws when written
 * after it ended or after onAborted fired, and close() fires onAborted
 * synchronously.
 */
/** The fake's upgrade context: which compressor the route that took the upgrade has. */
interface FakeContext {
  readonly compression: WsCompression;
}

const CONTEXTS = new Map<WsCompression, UpgradeContext>();
/** One context per compressor, as uWS.js has one per route. */
export function fakeContext(compression: WsCompression): UpgradeContext {
  let c = CONTEXTS.get(compression);
  if (!c) CONTEXTS.set(compression, (c = { compression } as FakeContext as unknown as UpgradeContext));
  return c;
}

export class FakeResponse implements HttpRes {
  status = '';
  readonly headers: [string, string][] = [];
  readonly chunks: Buffer[] = [];
  ended = false;
  /** Closed by the server (res.close()), or by end(body, true). */
  closed = false;
  aborted = false;
  /** Set when the framework upgraded this request. */
  socket: FakeSocket | undefined;
  /**
   * What the upgrade answered with: the protocol echoed, the extensions the
   * framework let the transport negotiate, the compressor of the route it
   * came through, and whether uWS.js would have agreed on permessage-deflate
   * (the route has a compressor and the offer names it).
   */
  upgradedAs: { readonly protocol: string; readonly extensions: string; readonly route: WsCompression; readonly deflate: boolean } | undefined;
  readonly #peer: string;
  readonly #site: UpgradeSite;
  #onAborted: (() => void) | undefined;
  #onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | undefined;
  #onWritable: ((offset: number) => boolean) | undefined;
  #offset = 0;
  #held = false;

  constructor(peer: string, site: UpgradeSite) {
    this.#peer = peer;
    this.#site = site;
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  header(name: string): string | undefined {
    return this.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  }

  // ---- what the framework calls (HttpRes) --------------------------------

  /** A status with header lines after it (a rendered head) is split as the wire would read it. */
  writeStatus(status: Bytes): this {
    this.#live();
    const [line = '', ...rest] = bytesOf(status).toString().split('\r\n');
    this.status = line;
    for (const h of rest) {
      const colon = h.indexOf(': ');
      this.headers.push([h.slice(0, colon), h.slice(colon + 2)]);
    }
    return this;
  }

  writeHeader(key: string, value: string | Uint8Array): this {
    this.#live();
    this.headers.push([key, typeof value === 'string' ? value : Buffer.from(value).toString('latin1')]);
    return this;
  }

  write(chunk: Bytes): boolean {
    this.#live();
    this.#take(chunk);
    return !this.#held;
  }

  end(body: Bytes = '', closeConnection = false): this {
    this.#live();
    this.#take(body);
    this.ended = true;
    this.closed = closeConnection;
    return this;
  }

  endWithoutBody(): this {
    this.#live();
    this.ended = true;
    return this;
  }

  tryEnd(chunk: Bytes, totalSize: number): [boolean, boolean] {
    this.#live();
    if (this.#held) return [false, false];
    this.#take(chunk);
    if (this.#offset >= totalSize) this.ended = true;
    return [true, this.ended];
  }

  close(): this {
    if (this.aborted) throw new Error('uWS.HttpResponse must not be accessed after uWS.HttpResponse.onAborted callback, or after a successful response.');
    this.closed = true;
    this.#abort();
    return this;
  }

  getWriteOffset(): number {
    return this.#offset;
  }

  onWritable(handler: (offset: number) => boolean): this {
    this.#onWritable = handler;
    return this;
  }

  onAborted(handler: () => void): this {
    this.#onAborted = handler;
    return this;
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    this.#onData = handler;
    return this;
  }

  cork(cb: () => void): this {
    this.#live();
    cb();
    return this;
  }

  pause(): void {}

  resume(): void {}

  /** An IPv4 peer as its 4 bytes; any other as none, so remoteAddress reads the text. */
  getRemoteAddress(): ArrayBuffer {
    const parts = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(this.#peer);
    return parts ? new Uint8Array(parts.slice(1).map(Number)).buffer : new ArrayBuffer(0);
  }

  getRemoteAddressAsText(): ArrayBuffer {
    const b = Buffer.from(this.#peer);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  }

  upgrade<T>(userData: T, _key: string, protocol: string, extensions: string, context: UpgradeContext): void {
    this.#live();
    this.ended = true;
    this.status = '101 Switching Protocols';
    const route = (context as unknown as FakeContext).compression;
    this.upgradedAs = { protocol, extensions, route, deflate: route !== 'off' && /(^|,)\s*permessage-deflate\b/.test(extensions) };
    const socket = new FakeSocket(userData as SocketData, wrapClose(this.#site), this.#site.options);
    this.socket = socket;
    this.#site.sockets.add(socket);
    // uWS.js opens the websocket from inside upgrade().
    this.#site.handlers.open(socket);
  }

  // ---- the client's side (for tests) ------------------------------------

  /** The client goes away before the response ended. */
  abort(): void {
    if (!this.ended && !this.aborted) this.#abort();
  }

  /** A piece of the request body arrives. */
  sendBody(chunk: Bytes, isLast: boolean): void {
    const b = bytesOf(chunk);
    this.#onData?.(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer, isLast);
  }

  /** The client stops reading: writes report backpressure, tryEnd takes nothing. */
  hold(): void {
    this.#held = true;
  }

  /** The client reads again: onWritable runs with the current offset. */
  release(): void {
    this.#held = false;
    if (!this.ended && !this.aborted) this.#onWritable?.(this.#offset);
  }

  #take(chunk: Bytes): void {
    const b = bytesOf(chunk);
    if (b.length === 0) return;
    this.chunks.push(b);
    this.#offset += b.length;
  }

  #abort(): void {
    this.aborted = true;
    this.#onAborted?.();
  }

  #live(): void {
    if (this.aborted || this.ended) throw new Error('uWS.HttpResponse must not be accessed after uWS.HttpResponse.onAborted callback, or after a successful response.');
  }
}

/** The listener forgets a socket once it closed. */
function wrapClose(site: UpgradeSite): ListenerHandlers {
  return {
    ...site.handlers,
    close: (ws, code, message) => {
      site.sockets.delete(ws as FakeSocket);
      site.handlers.close(ws, code, message);
    },
  };
}
