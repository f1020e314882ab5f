/** @module Plugin API, client connections: what vhost.connect() takes and gives (re-exported by api.ts); lws_client_connect_via_info and its CLIENT_* callbacks. */
import type { TswsError } from '../base/errors.ts';
import type { Timer, WriteStatus } from './api-base.ts';

/**
 * Where a client connection is. `waiting`: between attempts, the reconnect
 * delay running; `closed`: for good (the plugin closed it, a callback threw,
 * the vhost was destroyed, or it failed with no reconnect policy).
 */
export type ClientState = 'connecting' | 'open' | 'closing' | 'waiting' | 'closed';

/**
 * Exponential backoff with jitter: the n-th retry waits up to
 * min(maxMs, firstMs * 2^(n-1)), of which `jitter` is random.
 */
export interface ReconnectPolicy {
  readonly firstMs: number;
  /** The cap: no retry waits longer. */
  readonly maxMs: number;
  /**
   * The random share of each delay, 0 to 1. Default 0.5 ("equal jitter":
   * between half and all of it), so clients cut off together do not all come
   * back in the same instant; 0 makes the delays exact.
   */
  readonly jitter?: number;
  /**
   * When the delays start again from firstMs: at every established
   * connection (the default), or only when the plugin calls
   * `conn.resetBackoff()` (a protocol with a hello of its own, whose refusal
   * should not bring the next attempt sooner).
   */
  readonly resetOn?: 'established' | 'manual';
}

/** What `clientReconnecting` is told: which retry comes next (1 for the first since the last reset), and after how long. */
export interface ReconnectAttempt {
  readonly attempt: number;
  readonly delayMs: number;
}

/** For wss:// (Node's tls.connect options of the same names). */
export interface ClientTls {
  /** Certificates to trust besides the system's (PEM), e.g. a private CA or a self-signed server. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Default true; false accepts any certificate (tests only: it gives up on knowing who answers). */
  readonly rejectUnauthorized?: boolean;
  /** The name sent in SNI and checked against the certificate; default the URL's host. */
  readonly servername?: string;
}

/**
 * lws's client callback reasons (LWS_CALLBACK_CLIENT_*), given per
 * connection. `H` is the vhost type the connection belongs to.
 */
export interface ClientCallbacks<T, H> {
  /** CLIENT_ESTABLISHED: the 101 came back (after each reconnection too). */
  clientEstablished?(conn: ClientConnOn<T, H>): void;
  /** CLIENT_RECEIVE: one whole message. */
  clientReceive?(conn: ClientConnOn<T, H>, data: Buffer, isBinary: boolean): void;
  /** CLIENT_WRITEABLE: the socket can take data: write at most once, then return. */
  clientWritable?(conn: ClientConnOn<T, H>): void;
  /**
   * CLIENT_CONNECTION_ERROR: an attempt failed before it was established. `err`
   * is coded: TSWS_ERR_CLIENT_REFUSED, _TIMEOUT, _TLS, _BAD_HANDSHAKE, _CLOSED
   * or _UNREACHABLE.
   */
  clientConnectionError?(conn: ClientConnOn<T, H>, err: TswsError): void;
  /**
   * CLIENT_CLOSED: an established connection ended (1006 when it was cut
   * without a close frame; 1005 when the server's close had no code).
   * Messages read before the end are delivered first, even while paused.
   */
  clientClosed?(conn: ClientConnOn<T, H>, code: number, reason: string): void;
  /** After an error or a close, when the reconnect policy will try again (lws: a retry scheduled by lws_retry_sul_schedule). */
  clientReconnecting?(conn: ClientConnOn<T, H>, next: ReconnectAttempt): void;
}

/** lws_client_connect_info: what to connect to, and how. */
export interface ClientConnectInfo<T, H> {
  /** ws://, wss:// or ws+unix:///path/to.sock:/request-path. */
  readonly url: string;
  /**
   * The subprotocol to ask for (Sec-WebSocket-Protocol), or several for the
   * server to choose from (lws's comma-separated list; a bridge passes on a
   * browser's). The server must choose one of them: none, or another, fails
   * the handshake. `conn.acceptedProtocol` says which it chose.
   */
  readonly protocol?: string | readonly string[];
  /** Extra request headers (lower-case names are fine). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Connect, TLS and the websocket handshake must all be done within this (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Try again after errors and closes (default false: one attempt). */
  readonly reconnect?: ReconnectPolicy | false;
  /**
   * Liveness: ping this often, and cut the connection (1006, then reconnect)
   * when the previous ping got no pong: TCP alone may take minutes to notice
   * a peer that vanished. Default 0: off.
   */
  readonly pingIntervalMs?: number;
  /** Largest message accepted from the server; larger ones close with 1009. Default: the protocol's limit on this vhost. */
  readonly maxMessageSize?: number;
  readonly tls?: ClientTls;
  /** Per-connection state, as `session` is for a served connection; its type is inferred from this value. */
  readonly session?: T;
  readonly callbacks: ClientCallbacks<T, H>;
}

/**
 * A websocket client connection a plugin opened (lws: a client wsi). It keeps
 * its identity across reconnections: the same object gets every callback.
 * Writing follows the served connections' rule: only inside
 * `clientWritable`, once per call.
 */
export interface ClientConnOn<T, H> {
  readonly id: number;
  readonly url: string;
  /** The subprotocol asked for ("" for none; several joined by ", "). */
  readonly protocol: string;
  /** The subprotocol the server chose in the last handshake ("" for none, and before any). */
  readonly acceptedProtocol: string;
  /**
   * The HTTP status that answered the last handshake (lws_http_client_http_response):
   * 101 once established, the refusal's status (403, 404...) after
   * TSWS_ERR_CLIENT_BAD_HANDSHAKE, undefined when no answer came.
   */
  readonly handshakeStatus: number | undefined;
  /** The vhost (and protocol) that opened it. */
  readonly vhost: H;
  readonly session: T;
  readonly state: ClientState;
  /** Established, and not asked to close. */
  readonly isOpen: boolean;
  /** Bytes queued in the socket, not yet taken by the server. */
  readonly bufferedAmount: number;
  /**
   * Why the last attempt failed, or why the last connection was cut (no
   * close frame); undefined after a clean close.
   */
  readonly lastError: TswsError | undefined;
  /**
   * lws_callback_on_writable: `clientWritable` runs once the socket can take
   * data. Asked while connecting, it runs after clientEstablished; asked
   * between attempts, it is dropped (ask again from clientEstablished).
   */
  requestWritable(): void;
  /**
   * Only inside `clientWritable`, and only once per call: a second write
   * throws TSWS_ERR_BACK_TO_BACK_WRITE. 'backpressure': the socket holds more
   * than the framework's threshold, and `clientWritable` waits for it to drain.
   */
  write(data: string | Uint8Array | ArrayBuffer, isBinary?: boolean): WriteStatus;
  /**
   * lws_rx_flow_control(wsi, 0): stop reading the socket, so that the server
   * is held back by TCP (it sees backpressure) while this side cannot take
   * more. No clientReceive runs until `resumeReceive`; messages already read
   * off the socket wait here (at most one socket read's worth). It holds
   * across reconnections. While paused the ping check (pingIntervalMs) rests:
   * a pong cannot be read either.
   */
  pauseReceive(): void;
  /**
   * lws_rx_flow_control(wsi, 1): the messages that waited are delivered in
   * order (from a fresh turn of the event loop, never inside the caller's
   * callback), then the socket is read again.
   */
  resumeReceive(): void;
  /** Reading is paused by `pauseReceive` (lws_rx_flow_allowed() is its opposite). */
  readonly receivePaused: boolean;
  /**
   * Closes for good: no reconnection follows. Inside a callback, once it
   * returns. Code 1005 (lws's LWS_CLOSE_STATUS_NOSTATUS) sends a close frame
   * without a code, as a bridge passes on a close that had none.
   */
  close(code?: number, reason?: string): void;
  /**
   * Closes this socket and lets the reconnect policy open another after its
   * next delay (a refused hello, a peer that broke the protocol). Without a
   * policy it is `close`.
   */
  reconnect(code?: number, reason?: string): void;
  /** The next retry waits firstMs again (with `resetOn: 'manual'`: call it once the link is known to be good). */
  resetBackoff(): void;
  /** Timers owned by the framework: cancelled when the socket closes (each attempt has its own). */
  setTimeout(ms: number, fn: () => void): Timer;
  setInterval(ms: number, fn: () => void): Timer;
}
