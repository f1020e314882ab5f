/**
 * @module The uWebSockets.js binary's exports, typed as far as tsws and its tests use them.
 *
 * The builds we ship come as bare per-platform packages (`@uwsjs/linux-x64-24`:
 * an index.js and uws.node, no typings), so these declarations are ours,
 * written from uWS.js's docs/index.d.ts of the same release; only what the
 * adapter, the conformance suite and the raw uWS.js bench contender call.
 */

export type RecognizedString = string | ArrayBuffer | Uint8Array;

/** An opaque listen socket, or false when listening failed. */
export interface ListenSocket {
  readonly __listenSocket: unique symbol;
}

export interface NativeUpgradeContext {
  readonly __context: unique symbol;
}

export interface NativeRequest {
  getHeader(lowerCaseKey: RecognizedString): string;
  getUrl(): string;
  getMethod(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string | undefined;
  forEach(cb: (key: string, value: string) => void): void;
  /** Lets the router try the next matching route after this handler returns. */
  setYield(yield_: boolean): NativeRequest;
}

export interface NativeResponse {
  writeStatus(status: RecognizedString): NativeResponse;
  writeHeader(key: RecognizedString, value: RecognizedString): NativeResponse;
  write(chunk: RecognizedString): boolean;
  end(body?: RecognizedString, closeConnection?: boolean): NativeResponse;
  onAborted(handler: () => void): NativeResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): NativeResponse;
  cork(cb: () => void): NativeResponse;
  upgrade<T>(userData: T, key: RecognizedString, protocol: RecognizedString, extensions: RecognizedString, context: NativeUpgradeContext): void;
}

export interface NativeWebSocket<T> {
  send(message: RecognizedString, isBinary?: boolean, compress?: boolean): number;
  end(code?: number, shortMessage?: RecognizedString): void;
  subscribe(topic: RecognizedString): boolean;
  getUserData(): T;
}

export interface WebSocketBehavior<T> {
  compression?: number;
  maxPayloadLength?: number;
  idleTimeout?: number;
  sendPingsAutomatically?: boolean;
  maxBackpressure?: number;
  closeOnBackpressureLimit?: boolean;
  upgrade?: (res: NativeResponse, req: NativeRequest, context: NativeUpgradeContext) => void;
  open?: (ws: NativeWebSocket<T>) => void;
  message?: (ws: NativeWebSocket<T>, message: ArrayBuffer, isBinary: boolean) => void;
  drain?: (ws: NativeWebSocket<T>) => void;
  pong?: (ws: NativeWebSocket<T>, message: ArrayBuffer) => void;
  close?: (ws: NativeWebSocket<T>, code: number, message: ArrayBuffer) => void;
}

export interface TemplatedApp {
  ws<T>(pattern: string, behavior: WebSocketBehavior<T>): TemplatedApp;
  any(pattern: string, handler: (res: NativeResponse, req: NativeRequest) => void): TemplatedApp;
  get(pattern: string, handler: (res: NativeResponse, req: NativeRequest) => void): TemplatedApp;
  publish(topic: RecognizedString, message: RecognizedString, isBinary?: boolean, compress?: boolean): boolean;
  /** (host, port, options, cb) is in the binary but missing from uWS.js's own typings. */
  listen(host: string, port: number, options: number, cb: (token: ListenSocket | false) => void): TemplatedApp;
  listen(port: number, options: number, cb: (token: ListenSocket | false) => void): TemplatedApp;
  listen(host: string, port: number, cb: (token: ListenSocket | false) => void): TemplatedApp;
  listen_unix(cb: (token: ListenSocket | false) => void, path: string): TemplatedApp;
  addServerName(hostname: string, options: AppOptions): TemplatedApp;
  domain(domain: string): TemplatedApp;
  close(): TemplatedApp;
}

export interface AppOptions {
  key_file_name?: string;
  cert_file_name?: string;
  ca_file_name?: string;
  ssl_ciphers?: string;
  passphrase?: string;
  dh_params_file_name?: string;
  ssl_prefer_low_memory_usage?: boolean;
}

export interface MultipartField {
  data: ArrayBuffer;
  name: string;
  type?: string;
  filename?: string;
}

/** What `require('…/uws.node')` returns. */
export interface UwsNative {
  App(options?: AppOptions): TemplatedApp;
  SSLApp(options: AppOptions): TemplatedApp;
  readonly DISABLED: number;
  readonly SHARED_COMPRESSOR: number;
  readonly DEDICATED_COMPRESSOR_3KB: number;
  readonly DEDICATED_COMPRESSOR_4KB: number;
  readonly DEDICATED_COMPRESSOR_8KB: number;
  readonly DEDICATED_COMPRESSOR_16KB: number;
  readonly DEDICATED_COMPRESSOR_32KB: number;
  readonly DEDICATED_COMPRESSOR_64KB: number;
  readonly DEDICATED_COMPRESSOR_128KB: number;
  readonly DEDICATED_COMPRESSOR_256KB: number;
  /** Exported by the binary, missing from its typings. */
  readonly LIBUS_LISTEN_EXCLUSIVE_PORT: number;
  us_listen_socket_close(listenSocket: ListenSocket): void;
  us_socket_local_port(socket: ListenSocket): number;
  getParts(body: RecognizedString, contentType: RecognizedString): MultipartField[] | undefined;
}
