/**
 * @module Plugin API, the handles the framework gives callbacks (both API versions): one protocol on
 * one vhost, a websocket connection, an HTTP transaction (re-exported by api.ts).
 */
import type { Logger } from 'pino';
import type { Timer, WriteStatus } from './api-base.ts';
import type { Channels } from './api-channels.ts';
import type { ClientConnectInfo, ClientConnOn } from './api-client.ts';
import type { ClusterView } from './api-cluster.ts';
import type { Authenticated, HeaderInput, HttpRequestInfo, PeerRequest, Published } from './api-request.ts';
import type { ServerView } from './api-server.ts';

/** A protocol's slow-consumer bound on each connection (ProtocolVhost.inbox). */
export interface InboxBound {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly onOverflow: 'close' | 'drop-oldest';
}

/*
 * The type parameters, everywhere in the same order: V the protocol's state
 * on a vhost (what its init returned), S a websocket connection's session, H
 * an HTTP transaction's, P the plugin's own state on the vhost (apiVersion 2),
 * T a client connection's session. Each defaults to unknown, so a handle can
 * be named with as few of them as a helper needs (`Conn<VhostState>`).
 */

/**
 * One protocol on one vhost (lws: the per-vhost protocol data). Every vhost
 * enabling a protocol gets its own, with its own state from `init`.
 */
export interface ProtocolVhost<V = unknown, S = unknown, P = unknown> {
  readonly vhostName: string;
  readonly protocol: string;
  /** What `init` returned (undefined when the protocol has no init). */
  readonly state: V;
  /**
   * The plugin's state on this vhost, shared by all its protocols here: what
   * the plugin's own `init` returned (apiVersion 2; undefined without one).
   */
  readonly plugin: P;
  readonly log: Logger;
  /**
   * The protocol's slow-consumer bound (its `inbox`, or the defaults): what a
   * connection may fall behind before it is closed 1008. Helpers that queue
   * on a connection's behalf (channelFrames) hold themselves to it too.
   */
  readonly inbox: InboxBound;
  readonly connectionCount: number;
  connections(): IterableIterator<Conn<V, S, P>>;
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
  /**
   * Channels of this protocol on this vhost: publications with positions,
   * bounded history, resume without a silent gap, presence; the same alone,
   * across count-threads and across a cluster (docs/reference/channels.md).
   */
  readonly channels: Channels;
  /** Read-only figures of the whole server (every vhost and protocol), for status and monitoring plugins. */
  readonly server: ServerView;
  /**
   * lws_client_connect_via_info: opens a websocket client connection whose
   * callbacks (clientEstablished, clientReceive, clientWritable, ...) run as
   * a served connection's do. Closed at destroy (stop and reload). Throws
   * TSWS_ERR_CLIENT_OPTIONS for an address or option it cannot use; everything else
   * (refused, timed out, TLS...) reaches clientConnectionError.
   */
  connect<T = undefined>(info: ClientConnectInfo<T, ProtocolVhost<V, S, P>>): ClientConn<T, V, S, P>;
}

/** A client connection opened by a protocol on a vhost: T its session, V, S and P the vhost's. */
export type ClientConn<T = unknown, V = unknown, S = unknown, P = unknown> = ClientConnOn<T, ProtocolVhost<V, S, P>>;

/** What `init` sees: the vhost before it has state. */
export type ProtocolVhostInit<V = unknown, S = unknown, P = unknown> = Omit<ProtocolVhost<V, S, P>, 'state'>;

/** One websocket connection (lws: a wsi with its per-session data). */
export interface Conn<V = unknown, S = unknown, P = unknown> {
  readonly id: number;
  readonly protocol: string;
  readonly vhost: ProtocolVhost<V, S, P>;
  /** What `session` returned for this connection (apiVersion 2 with `connection`: the object it returned). */
  readonly session: S;
  readonly request: PeerRequest;
  /** Who the filter said this is (`request.auth`), or the later token `renewAuth` gave; undefined: nobody said. */
  readonly auth: Authenticated | undefined;
  /**
   * A refreshed token for the same subject (jwtFilter's `refresh` calls it):
   * the close at the old expiry is off, one at `auth.expiresAt` replaces it.
   * Another subject throws TSWS_ERR_AUTH_SUBJECT_CHANGED (the per-user rate
   * limit is counted by subject: a new user needs a new connection).
   */
  renewAuth(auth: Authenticated): void;
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

/**
 * One HTTP request/response (lws: an HTTP wsi with its per-session data).
 * The response is written like a websocket: one write per `httpWritable`.
 * The status and headers are one write, each body chunk another, and
 * `end()` (or `writeHead(..., { end: true })`) is the last. Its vhost's
 * websocket sessions are not its business: `vhost` names them unknown.
 */
export interface HttpTxn<V = unknown, H = unknown, P = unknown> {
  readonly id: number;
  readonly protocol: string;
  readonly vhost: ProtocolVhost<V, unknown, P>;
  /** What the HTTP `session` returned for this transaction (apiVersion 2 with `transaction`: the object it returned). */
  readonly session: H;
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
