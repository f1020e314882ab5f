/**
 * @module The public plugin API: the types and helpers a plugin file imports (`tsws/plugin`). Nothing
 * here loads uWebSockets.js (a test keeps it so): a plugin's types and unit tests work where the
 * transport cannot load; helpers that need it are in `tsws/plugin/runtime` (runtime.ts).
 */
import type { Logger } from 'pino';
import { VERSION } from '../base/version.ts';
import type { ClusterView } from './api-cluster.ts';
import type { ServerView } from './api-server.ts';
import type { Timer, WriteStatus } from './api-base.ts';
import type { ClientConnectInfo, ClientConnOn } from './api-client.ts';

export type { Logger, Timer, WriteStatus };
export type { ClientCallbacks, ClientConnectInfo, ClientState, ClientTls, ReconnectAttempt, ReconnectPolicy } from './api-client.ts';
export type { ListenerSnapshot, ProtocolSnapshot, ServerSnapshot, ServerView, TrafficCounts, VhostSnapshot } from './api-server.ts';
export type { ClusterView, Presence, PresenceEntry, PresenceOptions, SharedLog, SharedLogEntry, SharedLogOptions } from './api-cluster.ts';

/** Bumped when a plugin written for the previous version could misbehave. */
export const PLUGIN_API_VERSION = 1;

/** The version of the tsws running this plugin (its package.json's), e.g. for a status message. */
export const TSWS_VERSION: string = VERSION;

/**
 * The callback reasons, as in lws's callback state machine. These tuples are
 * the single source for both the types below and the loader's validation.
 */
export const VHOST_CALLBACKS = ['init', 'destroy'] as const;
export const WS_CALLBACKS = ['filter', 'established', 'receive', 'writable', 'closed'] as const;
export const HTTP_CALLBACKS = ['checkAccess', 'http', 'httpBody', 'httpBodyCompletion', 'httpWritable', 'httpClosed'] as const;
export const CALLBACK_NAMES = [...VHOST_CALLBACKS, ...WS_CALLBACKS, ...HTTP_CALLBACKS] as const;
export type CallbackName = (typeof CALLBACK_NAMES)[number];


/** A filter's answer to an upgrade request, before the 101 goes out. */
export type FilterVerdict = 'accept' | UpgradeAccept | { readonly refuse: number; readonly reason?: string };

/**
 * 'accept' with details, for a protocol that relays upgrades (`mountUpgrades`):
 * `protocol` is the subprotocol the 101 names (one the client asked for, or ''
 * for none) instead of this protocol's own name; `dropped` runs when the
 * accepted upgrade never became a connection (the client left while the
 * filter decided), to release what the filter set up for it.
 */
export interface UpgradeAccept {
  readonly accept: true;
  readonly protocol?: string;
  readonly dropped?: () => void;
}

/** The HTTP request that opened a connection (the upgrade) or an HTTP transaction. */
export interface PeerRequest {
  readonly method: string;
  /** The path as requested, without the query. */
  readonly path: string;
  /** The raw query string, without the "?". */
  readonly query: string;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Remote address as text (IPv4 dotted, IPv6 hex). */
  readonly peer: string;
  /**
   * Set when a mount routed the request here: every HTTP transaction, and an
   * upgrade a `mountUpgrades` protocol takes. `pathInMount` is "" or starts with "/".
   */
  readonly mountpoint?: string;
  readonly pathInMount?: string;
  /** A decoded query parameter, or undefined. */
  queryParam(name: string): string | undefined;
}

/**
 * Where a piece of a message sits (lws_is_first_fragment,
 * lws_is_final_fragment, lws_remaining_packet_payload). A whole message is
 * first and final with nothing remaining; only a protocol with
 * `receiveFragments` ever sees anything else.
 */
export interface Fragment {
  readonly first: boolean;
  readonly final: boolean;
  /** Bytes of the message still to come after this piece. */
  readonly remaining: number;
}

/** A message published on a topic this connection subscribed to. */
export interface Published {
  readonly topic: string;
  readonly data: Buffer | string;
  readonly isBinary: boolean;
}

/**
 * One protocol on one vhost (lws: the per-vhost protocol data). Every vhost
 * enabling a protocol gets its own, with its own state from `init`.
 */
export interface ProtocolVhost<V = unknown, S = unknown> {
  readonly vhostName: string;
  readonly protocol: string;
  /** What `init` returned (undefined when the protocol has no init). */
  readonly state: V;
  readonly log: Logger;
  readonly connectionCount: number;
  connections(): IterableIterator<Conn<V, S>>;
  /** lws_callback_on_writable_all_protocol_vhost: a writable for every connection. */
  requestWritableAll(): void;
  /**
   * Delivers to every connection subscribed to `topic` on this vhost and
   * protocol, on every thread and instance, through the bus.
   */
  publish(topic: string, data: string | Uint8Array, isBinary?: boolean): void;
  /** Timers owned by the framework: cancelled at destroy. */
  setTimeout(ms: number, fn: () => void): Timer;
  setInterval(ms: number, fn: () => void): Timer;
  /**
   * State shared with the other instances of a cluster (the global "cluster"
   * block), scoped to this vhost and protocol; undefined when tsws serves
   * alone. Plugins keep their in-process state when it is undefined.
   */
  readonly cluster: ClusterView | undefined;
  /** Read-only figures of the whole server (every vhost and protocol), for status and monitoring plugins. */
  readonly server: ServerView;
  /**
   * lws_client_connect_via_info: opens a websocket client connection whose
   * callbacks (clientEstablished, clientReceive, clientWritable, ...) run as
   * a served connection's do. Closed at destroy (stop and reload). Throws
   * TSWS_ERR_CLIENT_OPTIONS for an address or option it cannot use; everything else
   * (refused, timed out, TLS...) reaches clientConnectionError.
   */
  connect<T = undefined>(info: ClientConnectInfo<T, ProtocolVhost<V, S>>): ClientConn<T, V, S>;
}

/** A client connection opened by a protocol on a vhost: T its session, V and S the vhost's and served sessions' state. */
export type ClientConn<T = unknown, V = unknown, S = unknown> = ClientConnOn<T, ProtocolVhost<V, S>>;

/** What `init` sees: the vhost before it has state. */
export type ProtocolVhostInit<V = unknown, S = unknown> = Omit<ProtocolVhost<V, S>, 'state'>;

/** One websocket connection (lws: a wsi with its per-session data). */
export interface Conn<V = unknown, S = unknown> {
  readonly id: number;
  readonly protocol: string;
  readonly vhost: ProtocolVhost<V, S>;
  /** What `session` returned for this connection. */
  readonly session: S;
  readonly request: PeerRequest;
  readonly isOpen: boolean;
  /** Bytes queued in the transport, not yet taken by the peer. */
  readonly bufferedAmount: number;
  /** lws_callback_on_writable: `writable` runs once the connection can take data. */
  requestWritable(): void;
  /**
   * Only inside `writable`, and only once per call: a second write throws
   * TSWS_ERR_BACK_TO_BACK_WRITE. `isBinary` defaults to false for strings and
   * true for bytes.
   */
  write(data: string | Uint8Array | ArrayBuffer, isBinary?: boolean): WriteStatus;
  /** Closes with a close frame; `closed` follows once the current callback returns. */
  close(code?: number, reason?: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** The oldest published message not yet taken; writable is requested while any wait. */
  nextPublished(): Published | undefined;
  readonly publishedPending: number;
  /** Timers owned by the framework: cancelled when the connection closes. */
  setTimeout(ms: number, fn: () => void): Timer;
  setInterval(ms: number, fn: () => void): Timer;
}

// ---- HTTP (callback:// mounts) ---------------------------------------------

/** Headers as an object or as pairs (pairs allow a header twice, e.g. Set-Cookie). */
export type HeaderInput = Readonly<Record<string, string>> | readonly (readonly [string, string])[];

/** An HTTP request under a callback:// mount. */
export interface HttpRequestInfo extends PeerRequest {
  /** The mount's mountpoint, e.g. "/formtest". */
  readonly mountpoint: string;
  /** The path below the mountpoint: "" or starting with "/". */
  readonly pathInMount: string;
}

/** lws CHECK_ACCESS_RIGHTS: allow the request, or refuse it before `http` runs. */
export type AccessVerdict = 'allow' | { readonly refuse: 401 | 403; readonly reason?: string; readonly headers?: HeaderInput };

/**
 * One HTTP request/response (lws: an HTTP wsi with its per-session data).
 * The response is written like a websocket: one write per `httpWritable`.
 * The status and headers are one write, each body chunk another, and
 * `end()` (or `writeHead(..., { end: true })`) is the last.
 */
export interface HttpTxn<V = unknown, S = unknown> {
  readonly id: number;
  readonly protocol: string;
  readonly vhost: ProtocolVhost<V, S>;
  readonly session: S;
  readonly request: HttpRequestInfo;
  /** False once the response ended or the client went away: nothing more can be written. */
  readonly isOpen: boolean;
  /** Request body bytes received so far. */
  readonly bodyReceived: number;
  /** lws_callback_on_writable: `httpWritable` runs once the connection can take data. */
  requestWritable(): void;
  /**
   * Status line and headers. With a Content-Length header the body must add up
   * to it; without one the body is sent chunked. `end: true` ends the response
   * here, with no body.
   */
  writeHead(status: number, headers?: HeaderInput, opts?: { readonly end?: boolean }): WriteStatus;
  /** One body chunk. */
  write(chunk: string | Uint8Array): WriteStatus;
  /** The last body chunk (possibly empty), ending the response. */
  end(chunk?: string | Uint8Array): WriteStatus;
  /** Flow control: stop (and restart) reading the request body. */
  pauseBody(): void;
  resumeBody(): void;
  /**
   * Gives up on the response from any callback (not a write): the connection
   * is closed without finishing the body, so the client sees a truncated
   * response rather than a complete-looking one, and `httpClosed` runs with
   * 'aborted'. For a proxy whose upstream died mid-body. Before the headers,
   * answering with an error status is kinder.
   */
  abort(): void;
  /** Timers owned by the framework: cancelled when the transaction ends. */
  setTimeout(ms: number, fn: () => void): Timer;
}

export interface HttpCallbacks<V, S> {
  /** Before `http`: allow, or refuse with 401/403 (async allowed). */
  checkAccess?(req: HttpRequestInfo, vhost: ProtocolVhost<V, S>): AccessVerdict | Promise<AccessVerdict>;
  /** A request arrived: method, path, query, headers, peer are in txn.request. */
  http?(txn: HttpTxn<V, S>): void;
  /** One request body chunk, as it arrives (a large upload never sits in memory whole). */
  httpBody?(txn: HttpTxn<V, S>, chunk: Buffer): void;
  /** The whole body arrived: for requests that declared one (any Content-Length, even 0, or chunked). */
  httpBodyCompletion?(txn: HttpTxn<V, S>): void;
  /** The connection can take data: write at most once. */
  httpWritable?(txn: HttpTxn<V, S>): void;
  /** The transaction is over: the response completed, or the client went away (or the server gave up). */
  httpClosed?(txn: HttpTxn<V, S>, how: 'completed' | 'aborted'): void;
}

// ---- option specs ---------------------------------------------------------

export type OptionSpec =
  | { readonly type: 'string'; readonly default?: string; readonly doc: string }
  /** A file or directory: a relative value (the default included) is resolved against the config directory, `_lws_ddir_` expanded. */
  | { readonly type: 'path'; readonly default?: string; readonly doc: string }
  | { readonly type: 'int'; readonly default?: number; readonly min?: number; readonly max?: number; readonly doc: string }
  | { readonly type: 'bool'; readonly default?: boolean; readonly doc: string };

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type OptionValue<T extends OptionSpec> = T extends { type: 'int' } ? number : T extends { type: 'bool' } ? boolean : string;

/** Typed option values: optional unless the spec has a default. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends { default: unknown } ? OptionValue<O[K]> : OptionValue<O[K]> | undefined;
};

/** Options every protocol accepts; handled by the framework. */
export const RESERVED_OPTIONS: OptionSpecs = {
  status: { type: 'string', doc: 'lwsws writes "status": "ok"; accepted and ignored.' },
  default: { type: 'bool', doc: 'Serve upgrades that name no protocol.' },
  'ws-max-message-size': { type: 'int', doc: 'tsws: the largest message for this protocol on this vhost, in bytes, above the plugin\'s maxMessageSize and the vhost\'s ws-max-message-size alike.' },
};

// ---- the protocol definition ---------------------------------------------

export interface WsCallbacks<V, S> {
  /** Before the 101: see the upgrade request and accept or refuse it (auth goes here). */
  filter?(req: PeerRequest, vhost: ProtocolVhost<V, S>): FilterVerdict | Promise<FilterVerdict>;
  established?(conn: Conn<V, S>): void;
  /**
   * One complete message, already copied out of the transport's buffer; with
   * `receiveFragments`, a message longer than rxBufferSize comes as several
   * calls, one per rxBufferSize piece, told apart by `fragment`.
   */
  receive?(conn: Conn<V, S>, data: Buffer, isBinary: boolean, fragment: Fragment): void;
  /** The connection can take data: write at most once, then return. */
  writable?(conn: Conn<V, S>): void;
  closed?(conn: Conn<V, S>, code: number, reason: string): void;
  /**
   * At shutdown ('stop'), or when a reload replaced this instance ('reload')
   * and its last connection closed. A returned promise is awaited (bounded by
   * the grace period). On 'reload', leave alone what `init` handed over to
   * the successor through `previous`.
   */
  destroy?(vhost: ProtocolVhost<V, S>, why: 'stop' | 'reload'): void | Promise<void>;
}

export interface InitCallback<V, S, O extends OptionSpecs> {
  /**
   * Once per vhost enabling the protocol; returns that vhost's state. After a
   * reload, `previous` is the state of the instance being replaced (same
   * vhost name, same protocol): return it, or parts of it, to carry open
   * resources (a log file, rooms) across; the old instance keeps serving its
   * connections until they close, with the same objects.
   */
  init(vhost: ProtocolVhostInit<V, S>, options: OptionValues<O>, previous: V | undefined): V;
}

/** `init` is required exactly when the vhost state type cannot be undefined. */
export type Callbacks<V, S, O extends OptionSpecs> = WsCallbacks<V, S> &
  HttpCallbacks<V, S> &
  (undefined extends V ? Partial<InitCallback<V, S, O>> : InitCallback<V, S, O>);

interface ProtocolBase<V, S, O extends OptionSpecs> {
  /** The Sec-WebSocket-Protocol name; unique across all loaded plugins. */
  readonly name: string;
  /**
   * lws's rx_buffer_size: with `receiveFragments`, the size of the pieces a
   * longer message is handed to `receive` in (default 4096, as lws). Without
   * `receiveFragments` it has no effect: `receive` gets whole messages.
   */
  readonly rxBufferSize?: number;
  /** Hand messages longer than rxBufferSize to `receive` in pieces, as lws does (default false: whole messages). */
  readonly receiveFragments?: boolean;
  /**
   * Largest message accepted, in bytes; larger ones close with 1009. The
   * vhost's "ws-max-message-size" (default 16 MiB) caps it: a plugin can only
   * lower the limit its vhost sets.
   */
  readonly maxMessageSize?: number;
  readonly options?: O;
  /** Bounds on published messages waiting for one connection (default 1024 messages, 4 MiB). */
  readonly inbox?: { readonly maxMessages?: number; readonly maxBytes?: number; readonly onOverflow?: 'close' | 'drop-oldest' };
  /**
   * Opt-in flood limit per connection: a token bucket of `burst` messages
   * (default: messagesPerSecond) refilled at messagesPerSecond; a message with
   * the bucket empty closes the connection with 1008.
   */
  readonly rateLimit?: { readonly messagesPerSecond: number; readonly burst?: number };
  /** Largest HTTP request body accepted under its callback:// mounts, in bytes (default 1 MiB); larger ones get 413. */
  readonly httpBodyLimit?: number;
  /**
   * Websocket upgrades under this protocol's callback:// mounts come to it
   * whatever subprotocol they ask for, as lws hands upgrades under a proxy
   * mount to the proxy: for a plugin that relays them (the tunnel does). Its
   * `filter` sees `req.mountpoint` and `req.pathInMount`, and may accept with
   * the subprotocol to answer. Default false: upgrades everywhere pick their
   * protocol by Sec-WebSocket-Protocol.
   */
  readonly mountUpgrades?: boolean;
  /**
   * What `--check` (and start and reload, before anything listens) can tell
   * about this protocol on a vhost without starting it: throw (a coded error
   * such as lockFile's, or any Error) when it could not start here.
   */
  readonly check?: (options: OptionValues<O>, where: ProtocolCheckSite) => void;
  readonly callbacks: Callbacks<V, S, O>;
}

/** Where a protocol's `check` runs: the vhost, and whether a cluster (Redis) is configured. */
export interface ProtocolCheckSite {
  readonly vhostName: string;
  readonly clustered: boolean;
}

/**
 * `session` is required exactly when the session state type cannot be undefined.
 * It gets the same `req` object the protocol's `filter` saw, so what an async
 * filter found out about an upgrade can be looked up by it.
 */
export type ProtocolDef<V = undefined, S = undefined, O extends OptionSpecs = Record<never, OptionSpec>> = ProtocolBase<V, S, O> &
  (undefined extends S
    ? { readonly session?: (vhost: ProtocolVhost<V, S>, req: PeerRequest) => S }
    : { readonly session: (vhost: ProtocolVhost<V, S>, req: PeerRequest) => S });

/* The descriptor holds protocols of different state types side by side; the
 * loader validates them at run time, so their type parameters are erased here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProtocolDef = ProtocolDef<any, any, any>;

export interface PluginDescriptor {
  readonly apiVersion: number;
  /** For logs; defaults to the file name. */
  readonly name?: string;
  readonly protocols: readonly AnyProtocolDef[];
}

/** Types one protocol: V (vhost state), S (session state) and O (options) are inferred or given. */
export function defineProtocol<V = undefined, S = undefined, O extends OptionSpecs = Record<never, OptionSpec>>(def: ProtocolDef<V, S, O>): ProtocolDef<V, S, O> {
  return def;
}

/** The default export of a plugin file. */
export function definePlugin<const P extends PluginDescriptor>(descriptor: P): P {
  return descriptor;
}

/** Coded errors, e.g. to tell TSWS_ERR_CLUSTER_UNAVAILABLE (Redis away for a moment) from a bug. */
export { isTswsError, type TswsError } from '../base/errors.ts';
export { checkLock, lockFile, type FileLock } from '../base/file-lock.ts';

/** A flood limit a plugin can keep per connection or per name (pure arithmetic, no transport). */
export { TokenBucket } from '../base/token-bucket.ts';
