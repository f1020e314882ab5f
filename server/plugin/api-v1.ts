/**
 * @module Plugin API version 1, kept so that plugins written for it type-check and load unchanged:
 * one `callbacks` table, one `session` for websockets and HTTP alike (the loader adapts it, v1-adapter.ts).
 */
import type { Conn, HttpTxn, ProtocolVhost, ProtocolVhostInit } from './api-handles.ts';
import type { NoOptions, OptionSpecs, OptionValues, ProtocolSettings } from './api-options.ts';
import type { AccessVerdict, FilterVerdict, Fragment, HttpRequestInfo, PeerRequest } from './api-request.ts';

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

interface ProtocolBase<V, S, O extends OptionSpecs> extends ProtocolSettings<O> {
  readonly callbacks: Callbacks<V, S, O>;
}

/**
 * An apiVersion 1 protocol. `session` (required exactly when the session
 * state type cannot be undefined) serves its websocket connections and its
 * HTTP transactions alike; it gets the same `req` object the protocol's
 * `filter` saw, so what an async filter found out about an upgrade can be
 * looked up by it.
 * @deprecated apiVersion 1; see docs/guides/migrating-to-v2.md.
 */
export type ProtocolDef<V = undefined, S = undefined, O extends OptionSpecs = NoOptions> = ProtocolBase<V, S, O> &
  (undefined extends S
    ? { readonly session?: (vhost: ProtocolVhost<V, S>, req: PeerRequest) => S }
    : { readonly session: (vhost: ProtocolVhost<V, S>, req: PeerRequest) => S });

/* The descriptor holds protocols of different state types side by side; the
 * loader validates them at run time, so their type parameters are erased here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProtocolDef = ProtocolDef<any, any, any>;

/** An apiVersion 1 plugin: an array of `defineProtocol` results. */
export interface PluginDescriptor {
  readonly apiVersion: 1;
  /** For logs; defaults to the file name. */
  readonly name?: string;
  readonly protocols: readonly AnyProtocolDef[];
}

/**
 * Types one apiVersion 1 protocol: V (vhost state), S (session state) and O
 * (options) are inferred or given.
 * @deprecated apiVersion 1: an apiVersion 2 plugin defines its protocols with the `protocol` its `protocols` function is given.
 */
export function defineProtocol<V = undefined, S = undefined, O extends OptionSpecs = NoOptions>(def: ProtocolDef<V, S, O>): ProtocolDef<V, S, O> {
  return def;
}
