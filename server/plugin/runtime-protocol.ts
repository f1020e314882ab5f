/**
 * @module A validated protocol as the runtime holds it, whatever apiVersion it was written for: the
 * plugin's types erased, defaults applied, and version 1's shape and version 2's object forms turned
 * into one callback table at load time (nothing is adapted per message).
 */
import type { Conn, HttpTxn, InboxBound, ProtocolVhost, ProtocolVhostInit } from './api-handles.ts';
import type { OptionSpecs, ProtocolCheckSite, WsCompression } from './api-options.ts';
import type { AccessVerdict, FilterVerdict, Fragment, HttpRequestInfo, PeerRequest, Verdict } from './api-request.ts';
import type { PluginVhost, PluginVhostInit } from './api-v2.ts';

/** The plugin-facing name of the same bound is InboxBound (ProtocolVhost.inbox). */
export type InboxLimits = InboxBound;

/** The callbacks with unknown state types: what the runtime calls, with the connection or transaction first. */
export interface RuntimeCallbacks {
  init?(vhost: ProtocolVhostInit, options: Readonly<Record<string, unknown>>, previous: unknown): unknown;
  destroy?(vhost: ProtocolVhost, why: 'stop' | 'reload'): void | Promise<void>;
  filter?(req: PeerRequest, vhost: ProtocolVhost): FilterVerdict | Promise<FilterVerdict>;
  established?(conn: Conn): void;
  receive?(conn: Conn, data: Buffer, isBinary: boolean, fragment: Fragment): void;
  writable?(conn: Conn): void;
  closed?(conn: Conn, code: number, reason: string): void;
  /** The HTTP gate: version 2's `http.filter`, version 1's `checkAccess` (see RuntimeProtocol.httpGate). */
  httpFilter?(req: HttpRequestInfo, vhost: ProtocolVhost): Verdict | AccessVerdict | Promise<Verdict | AccessVerdict>;
  http?(txn: HttpTxn): void;
  httpBody?(txn: HttpTxn, chunk: Buffer): void;
  httpBodyCompletion?(txn: HttpTxn): void;
  httpWritable?(txn: HttpTxn): void;
  httpClosed?(txn: HttpTxn, how: 'completed' | 'aborted'): void;
}

/**
 * The plugin a protocol came from, one object for all the protocols of its
 * file: the runtime keeps the plugin's own state per vhost with it
 * (session/plugin-host.ts). Version 1 plugins have neither callback.
 */
export interface RuntimePlugin {
  readonly name: string;
  readonly file: string;
  readonly apiVersion: 1 | 2;
  readonly init: ((vhost: PluginVhostInit, previous: unknown) => unknown) | undefined;
  readonly destroy: ((vhost: PluginVhost, why: 'stop' | 'reload') => void | Promise<void>) | undefined;
}

export interface RuntimeProtocol {
  readonly name: string;
  /** The plugin file that defined it, for errors. */
  readonly file: string;
  readonly pluginName: string;
  readonly plugin: RuntimePlugin;
  /** lws rx_buffer_size: the piece size for a protocol with receiveFragments. */
  readonly rxBufferSize: number;
  /** Messages longer than rxBufferSize reach `receive` in rxBufferSize pieces. */
  readonly receiveFragments: boolean;
  /** `receive` gets a view of the transport's buffer (receiveData 'view') rather than a copy. */
  readonly receiveView: boolean;
  /** The plugin's own bound on a message; the vhost's ws-max-message-size caps it. */
  readonly maxMessageSize: number | undefined;
  /** The plugin's permessage-deflate choice; a vhost's "permessage-deflate" entry wins. */
  readonly compression: WsCompression;
  readonly inbox: InboxLimits;
  readonly httpBodyLimit: number;
  /** Upgrades under its callback:// mounts come to it whatever subprotocol they name. */
  readonly mountUpgrades: boolean;
  readonly rateLimit: { readonly perMs: number; readonly burst: number } | undefined;
  readonly optionSpecs: OptionSpecs;
  /**
   * Makes a websocket connection's session once the Connection exists
   * (version 2's `websocket.session` or `websocket.connection`, version 1's
   * `session`); undefined when there is none to make.
   */
  readonly wsSession: ((conn: Conn) => unknown) | undefined;
  /** The same for an HTTP transaction (version 2's `http.session` or `http.transaction`, version 1's `session`). */
  readonly httpSession: ((txn: HttpTxn) => unknown) | undefined;
  /**
   * How the HTTP gate says yes, and what the logs call it: version 2's
   * `http.filter` answers 'accept' as the websocket filter does; version 1's
   * `checkAccess` answered 'allow', and still may.
   */
  readonly httpGate: { readonly accept: 'accept' | 'allow'; readonly name: 'http.filter' | 'checkAccess' };
  readonly check: ((options: Readonly<Record<string, unknown>>, where: ProtocolCheckSite) => void) | undefined;
  readonly callbacks: RuntimeCallbacks;
}

/** lws's default receive buffer (rx_buffer_size 0 means this). */
export const DEFAULT_RX_BUFFER_SIZE = 4096;
export const DEFAULT_INBOX: InboxLimits = { maxMessages: 1024, maxBytes: 4 * 1024 * 1024, onOverflow: 'close' };
