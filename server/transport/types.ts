/** @module The narrow view of the transport the framework codes against; uWS.js objects satisfy it structurally. */
import type { WsCompression } from '../config/model.ts';

export type { WsCompression } from '../config/model.ts';

export type Bytes = string | ArrayBuffer | Uint8Array;

/** What a websocket send did: taken whole, taken but buffered (backpressure), or dropped (over the hard cap). */
export type SendStatus = 'sent' | 'backpressure' | 'dropped';

/**
 * A send's outcome in the transport's own code: an index into its
 * Transport.sendOutcomes table. Only the adapter knows the values; the
 * framework looks them up, so no bare 0/1/2 leaks past it.
 */
export type SendCode = number & { readonly __sendCode: unique symbol };

/**
 * A websocket as the framework uses it (a uWS.js WebSocket). It carries the
 * SocketData it was upgraded with as its own properties (uWS.js copies them
 * onto the socket at open), so the per-message path reads `ws.session`
 * without a call into the transport.
 */
export interface WsHandle extends SocketData {
  send(message: Bytes, isBinary?: boolean, compress?: boolean): SendCode;
  getBufferedAmount(): number;
  end(code?: number, shortMessage?: Bytes): void;
  close(): void;
  cork(cb: () => void): unknown;
  ping(message?: Bytes): unknown;
  getUserData(): unknown;
}

/** Per-socket user data: the framework's own object travels through res.upgrade(). */
export interface SocketData {
  readonly session: unknown;
  /** The remote address, for per-address limits (uWS.js cannot tell it once the socket closes). */
  readonly peer: string;
}

/**
 * The peer address of a response's socket as text. Read per request (uWS.js
 * has no per-connection HTTP hook, and its response objects are per request),
 * so from the binary form: an IPv4 peer (most, and every mapped one on a
 * dual-stack listener) is four bytes printed at once, where the text form is
 * 39 characters to decode and take apart (~3 µs a request against ~1 µs).
 */
export function remoteAddress(res: HttpRes): string {
  const b = new Uint8Array(res.getRemoteAddress());
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length === 16 && isMappedV4(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return formatAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
}

/** ::ffff:a.b.c.d, the form a dual-stack socket gives IPv4 peers. */
function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

const MAPPED_V4 = '0000:0000:0000:0000:0000:ffff:';

/**
 * uWS.js prints IPv6 in full ("0000:...:0001") and, on a dual-stack socket,
 * IPv4 peers as mapped addresses. Logs and plugins get the usual forms:
 * "127.0.0.1" and "::1".
 */
export function formatAddress(text: string): string {
  if (!text.includes(':')) return text;
  const lower = text.toLowerCase();
  if (lower.startsWith(MAPPED_V4)) {
    const [hi = '0', lo = '0'] = lower.slice(MAPPED_V4.length).split(':');
    const a = Number.parseInt(hi, 16);
    const b = Number.parseInt(lo, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return text;
  }
}

/** Opaque transport context needed to complete an upgrade. */
export interface UpgradeContext {
  readonly __upgradeContext: unique symbol;
}

/** An HTTP response (a uWS.js HttpResponse): valid until ended or aborted. */
export interface HttpRes {
  /**
   * Writes "HTTP/1.1 " + status + "\r\n". A status followed by header lines
   * ("200 OK\r\nServer: tsws") writes a whole head in one call, as a rendered
   * head does (renderHead in server/http/exchange.ts): bytes go as they are.
   */
  writeStatus(status: Bytes): HttpRes;
  writeHeader(key: string, value: string | Uint8Array): HttpRes;
  write(chunk: Bytes): boolean;
  end(body?: Bytes, closeConnection?: boolean): HttpRes;
  /**
   * Ends without a body. Takes no arguments on purpose: in this uWS.js build
   * endWithoutBody(length) never ends the response and uWS.js then aborts the
   * process. Write Content-Length yourself (HttpExchange.endWithoutBody does).
   */
  endWithoutBody(): HttpRes;
  tryEnd(fullBodyOrChunk: Bytes, totalSize: number): [boolean, boolean];
  close(): HttpRes;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): HttpRes;
  onAborted(handler: () => void): HttpRes;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): HttpRes;
  cork(cb: () => void): HttpRes;
  pause(): void;
  resume(): void;
  /** 4 or 16 bytes (IPv4, IPv6), or none when the socket has no IP peer. */
  getRemoteAddress(): ArrayBuffer;
  getRemoteAddressAsText(): ArrayBuffer;
  upgrade<T>(userData: T, key: string, protocol: string, extensions: string, context: UpgradeContext): void;
}

/** An HTTP request (a uWS.js HttpRequest): readable only during the callback that received it. */
export interface HttpReq {
  /**
   * "" when absent. The name may be given as bytes: uWS.js converts a string
   * argument to UTF-8 in a fresh allocation on every call, and reads bytes in
   * place (HeaderKey: for names read on every request).
   */
  getHeader(lowerCaseKey: string | Uint8Array): string;
  getUrl(): string;
  getMethod(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string;
  forEach(cb: (key: string, value: string) => void): void;
}

/**
 * What the transport calls; implemented by the framework for one listener.
 * `sni` is the TLS server name whose router took the request, undefined on a
 * plain listener and for TLS clients that sent no (or an unknown) name.
 */
export interface ListenerHandlers {
  http(res: HttpRes, req: HttpReq, sni: string | undefined): void;
  /**
   * Which permessage-deflate the protocol this upgrade is headed for offers.
   * Asked first, only on a listener whose options list compressors: the
   * transport then hands the upgrade to the route whose context has that
   * compressor. An answer not in the list goes to the route without one.
   */
  routeUpgrade?(req: HttpReq, sni: string | undefined): WsCompression;
  /** `compression`: what the route taking the upgrade (its `context`) offers; pass the client's extensions to res.upgrade only when that is what the protocol wants. */
  upgrade(res: HttpRes, req: HttpReq, context: UpgradeContext, sni: string | undefined, compression: WsCompression): void;
  open(ws: WsHandle): void;
  message(ws: WsHandle, message: ArrayBuffer, isBinary: boolean): void;
  drain(ws: WsHandle): void;
  /** The peer answered a ping. */
  pong(ws: WsHandle): void;
  close(ws: WsHandle, code: number, message: ArrayBuffer): void;
}

/** PEM files for one TLS server name. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
  readonly ciphers: string | undefined;
}

/** A TLS listener: the certificate for clients naming nothing known, then one per SNI name. */
export interface TlsListenerOptions {
  readonly fallback: TlsFiles;
  readonly names: readonly { readonly name: string; readonly files: TlsFiles }[];
}

export interface WsTransportOptions {
  /** Hard cap on a message; above it the transport drops the connection itself. */
  readonly maxPayloadLength: number;
  /** Seconds; 0 disables idle pings. */
  readonly idleTimeout: number;
  /** Hard cap on buffered output; the scheduler keeps far below it. */
  readonly maxBackpressure: number;
  /** The permessage-deflate compressors the listener's protocols offer ("off" left out): one websocket route each, beside the one without. */
  readonly compressions: readonly WsCompression[];
}

/** A transport: server/transport/uws/ (uWebSockets.js), or server/transport/fake/ for tests of the framework. */
export interface Transport {
  createListener(handlers: ListenerHandlers, ws: WsTransportOptions, tls?: TlsListenerOptions): ListenerHandle;
  /** WsHandle.send's codes, named: `sendOutcomes[code]`. */
  readonly sendOutcomes: readonly SendStatus[];
}

export interface ListenerHandle {
  /** Resolves with the bound port (the real one when asked for 0). `shared` lets threads of this process bind it too. */
  listen(host: string, port: number, shared?: boolean): Promise<number>;
  listenUnix(path: string): Promise<void>;
  /** Stops accepting; open connections stay. */
  stopListening(): void;
  /** Closes every connection of this listener at once. */
  closeAll(): void;
}
