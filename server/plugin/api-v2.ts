/**
 * @module Plugin API version 2, the plugin's shape: its own state per vhost, then its protocols, each
 * with a websocket part and an HTTP part, each part with its own state, as a callback table or as one
 * object per connection (re-exported by api.ts).
 */
import type { Logger } from 'pino';
import type { Timer } from './api-base.ts';
import type { Conn, HttpTxn, ProtocolVhost, ProtocolVhostInit } from './api-handles.ts';
import type { NoOptions, OptionSpecs, OptionValues, ProtocolSettings } from './api-options.ts';
import type { FilterVerdict, Fragment, HttpRequestInfo, PeerRequest, Verdict } from './api-request.ts';
import type { ServerView } from './api-server.ts';

/*
 * Why the parameters are typed as they are. TypeScript infers a state type
 * from the function that makes it, but only if none of that function's own
 * parameters mention the type: a parameter typed with it fixes the type
 * (to its default) before the return value is seen. So every maker's
 * parameters leave the type it makes unknown: init's `vhost` has no state
 * yet, `session` and `connection` see a vhost whose sessions are unknown,
 * `destroy` and `filter` too (they come before the sessions in a
 * definition, and would fix them). `previous` is the one exception, since
 * a reload hands over the state init makes: an init that reads it names
 * its return type (`init(vhost, opts, previous): State`), which TypeScript
 * reads before the parameters. The type tests (api-v2.test-d.ts) hold all of
 * this in place.
 */

/** The plugin on one vhost, before its state exists: what the plugin's `init` sees. */
export interface PluginVhostInit {
  readonly vhostName: string;
  /** The plugin's name (its descriptor's `name`, or the file name). */
  readonly plugin: string;
  readonly log: Logger;
  readonly server: ServerView;
  /** Timers owned by the framework: cancelled at the plugin's destroy. */
  setTimeout(ms: number, fn: () => void): Timer;
  setInterval(ms: number, fn: () => void): Timer;
}

/** The plugin on one vhost, with the state its `init` returned. */
export interface PluginVhost<P = unknown> extends PluginVhostInit {
  readonly state: P;
}

// ---- websocket ------------------------------------------------------------

/**
 * A connection as one object (hono's createEvents(c) shape): what
 * `websocket.connection` returns, its methods the callbacks of the table
 * without their first argument. It is also the connection's `session`.
 */
export interface WsEvents {
  established?(): void;
  receive?(data: Buffer, isBinary: boolean, fragment: Fragment): void;
  writable?(): void;
  closed?(code: number, reason: string): void;
}

interface WsGate<V, P> {
  /** lws FILTER_PROTOCOL_CONNECTION: before the 101, see the upgrade request and accept or refuse it (auth goes here). */
  filter?(req: PeerRequest, vhost: ProtocolVhost<V, unknown, P>): FilterVerdict | Promise<FilterVerdict>;
}

/** The websocket callbacks as a table, the connection's state apart (lws: per-session data). */
export interface WsTable<V, S, P> extends WsGate<V, P> {
  /** One per connection, just before it is accepted; `req` is the object the filter saw. */
  session?(vhost: ProtocolVhost<V, unknown, P>, req: PeerRequest): S;
  /** lws ESTABLISHED. */
  established?(conn: Conn<V, S, P>): void;
  /**
   * lws RECEIVE: one complete message, already copied out of the transport's
   * buffer; with `receiveFragments`, a message longer than rxBufferSize comes
   * as several calls, one per rxBufferSize piece, told apart by `fragment`.
   */
  receive?(conn: Conn<V, S, P>, data: Buffer, isBinary: boolean, fragment: Fragment): void;
  /** lws SERVER_WRITEABLE: the connection can take data: write at most once, then return. */
  writable?(conn: Conn<V, S, P>): void;
  /** lws CLOSED: either side closed. */
  closed?(conn: Conn<V, S, P>, code: number, reason: string): void;
  readonly connection?: never;
}

/** The websocket callbacks as one object per connection. */
export interface WsObject<V, S, P> extends WsGate<V, P> {
  /**
   * Makes the connection's object when it is accepted; its methods get the
   * connection's callbacks, and it is `conn.session`. (The return type reads
   * "S, checked against WsEvents": an intersection would lose S when the
   * maker returns several types TypeScript reduces to one.)
   */
  connection(conn: Conn<V, unknown, P>): S extends WsEvents ? S : WsEvents;
  readonly session?: never;
  readonly established?: never;
  readonly receive?: never;
  readonly writable?: never;
  readonly closed?: never;
}

export type WebsocketPart<V, S, P> = WsTable<V, S, P> | WsObject<V, S, P>;

// ---- HTTP (callback:// mounts) ----------------------------------------------

/** A transaction as one object: what `http.transaction` returns, its methods the table's callbacks without their first argument. */
export interface HttpEvents {
  http?(): void;
  httpBody?(chunk: Buffer): void;
  httpBodyCompletion?(): void;
  httpWritable?(): void;
  httpClosed?(how: 'completed' | 'aborted'): void;
}

interface HttpGate<V, P> {
  /** lws FILTER_HTTP_CONNECTION: before `http`, accept or refuse (async allowed); the same words as the websocket filter. */
  filter?(req: HttpRequestInfo, vhost: ProtocolVhost<V, unknown, P>): Verdict | Promise<Verdict>;
}

/** The HTTP callbacks as a table, the transaction's state apart. */
export interface HttpTable<V, H, P> extends HttpGate<V, P> {
  /** One per transaction, once the filter accepted it. */
  session?(vhost: ProtocolVhost<V, unknown, P>, req: HttpRequestInfo): H;
  /** lws HTTP: the request line and headers arrived (txn.request). */
  http?(txn: HttpTxn<V, H, P>): void;
  /** lws HTTP_BODY: one request body chunk, as it arrives (a large upload never sits in memory whole). */
  httpBody?(txn: HttpTxn<V, H, P>, chunk: Buffer): void;
  /** lws HTTP_BODY_COMPLETION: the whole body arrived, for requests that declared one (any Content-Length, even 0, or chunked). */
  httpBodyCompletion?(txn: HttpTxn<V, H, P>): void;
  /** lws HTTP_WRITEABLE: the connection can take data: write at most once. */
  httpWritable?(txn: HttpTxn<V, H, P>): void;
  /** lws CLOSED_HTTP: the response completed, or the client went away (or the server gave up). */
  httpClosed?(txn: HttpTxn<V, H, P>, how: 'completed' | 'aborted'): void;
  readonly transaction?: never;
}

/** The HTTP callbacks as one object per transaction. */
export interface HttpObject<V, H, P> extends HttpGate<V, P> {
  /** Makes the transaction's object once the filter accepted it; its methods get the transaction's callbacks, and it is `txn.session`. */
  transaction(txn: HttpTxn<V, unknown, P>): H extends HttpEvents ? H : HttpEvents;
  readonly session?: never;
  readonly http?: never;
  readonly httpBody?: never;
  readonly httpBodyCompletion?: never;
  readonly httpWritable?: never;
  readonly httpClosed?: never;
}

export type HttpPart<V, H, P> = HttpTable<V, H, P> | HttpObject<V, H, P>;

// ---- a protocol, and the plugin -------------------------------------------

/**
 * An apiVersion 2 protocol: V (its state on a vhost), S (a websocket
 * connection's), H (an HTTP transaction's) and O (options) are inferred; P
 * (the plugin's state) comes from the plugin.
 */
export interface Protocol<V, S, H, O extends OptionSpecs, P> extends ProtocolSettings<O> {
  /**
   * lws PROTOCOL_INIT: once per vhost enabling the protocol, after the
   * plugin's init there; returns the protocol's state on that vhost. After a
   * reload, `previous` is the state of the instance being replaced (same
   * vhost, same protocol): return it, or parts of it, to carry open resources
   * across. An init that reads `previous` names its return type.
   */
  init?(vhost: ProtocolVhostInit<unknown, unknown, P>, options: OptionValues<O>, previous: V | undefined): V;
  /**
   * lws PROTOCOL_DESTROY: at shutdown ('stop'), or when a reload replaced this
   * instance ('reload') and its last connection closed. A returned promise is
   * awaited (bounded by the grace period).
   */
  destroy?(vhost: ProtocolVhost<V, unknown, P>, why: 'stop' | 'reload'): void | Promise<void>;
  /** Websocket connections choosing this protocol (by Sec-WebSocket-Protocol, or under a mountUpgrades mount). */
  readonly websocket?: WebsocketPart<V, S, P>;
  /** HTTP requests under its callback:// mounts. */
  readonly http?: HttpPart<V, H, P>;
}

/** A protocol as the plugin's list holds it: its types are its own business. */
export interface DefinedProtocol {
  readonly name: string;
}

/** The `protocol` a plugin's `protocols` function is given: types one protocol, with the plugin's state P in every vhost handle. */
export type DefineProtocol<P> = <V = undefined, S = undefined, H = undefined, O extends OptionSpecs = NoOptions>(def: Protocol<V, S, H, O, P>) => Protocol<V, S, H, O, P>;

/** An apiVersion 2 plugin, the default export of its file (`definePlugin({...})`). */
export interface Plugin<P> {
  readonly apiVersion: 2;
  /** For logs, and to find the previous state at a reload; defaults to the file name. */
  readonly name?: string;
  /**
   * Once per vhost where any of its protocols is enabled, before their inits:
   * the plugin's state there, shared by its protocols (`vhost.plugin`). At a
   * reload `previous` is the replaced configuration's (same vhost, same
   * plugin); an init that reads it names its return type.
   */
  init?(vhost: PluginVhostInit, previous: P | undefined): P;
  /** After the last of its protocols on the vhost was destroyed ('stop', or 'reload' once the replaced ones are gone). */
  destroy?(vhost: PluginVhost<P>, why: 'stop' | 'reload'): void | Promise<void>;
  /** Its protocols, each typed by `protocol` (called once, when the file is loaded). */
  readonly protocols: (protocol: DefineProtocol<P>) => readonly DefinedProtocol[];
}
