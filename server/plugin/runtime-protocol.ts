/** @module A validated protocol as the runtime holds it, with the plugin's types erased and defaults applied. */
import type { AccessVerdict, Conn, FilterVerdict, Fragment, HttpRequestInfo, HttpTxn, OptionSpecs, PeerRequest, ProtocolCheckSite, ProtocolVhost, ProtocolVhostInit } from './api.ts';

export interface InboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly onOverflow: 'close' | 'drop-oldest';
}

/** The callbacks with unknown state types: what the runtime calls. */
export interface RuntimeCallbacks {
  init?(vhost: ProtocolVhostInit, options: Readonly<Record<string, unknown>>, previous: unknown): unknown;
  destroy?(vhost: ProtocolVhost, why: 'stop' | 'reload'): void | Promise<void>;
  filter?(req: PeerRequest, vhost: ProtocolVhost): FilterVerdict | Promise<FilterVerdict>;
  established?(conn: Conn): void;
  receive?(conn: Conn, data: Buffer, isBinary: boolean, fragment: Fragment): void;
  writable?(conn: Conn): void;
  closed?(conn: Conn, code: number, reason: string): void;
  checkAccess?(req: HttpRequestInfo, vhost: ProtocolVhost): AccessVerdict | Promise<AccessVerdict>;
  http?(txn: HttpTxn): void;
  httpBody?(txn: HttpTxn, chunk: Buffer): void;
  httpBodyCompletion?(txn: HttpTxn): void;
  httpWritable?(txn: HttpTxn): void;
  httpClosed?(txn: HttpTxn, how: 'completed' | 'aborted'): void;
}

export interface RuntimeProtocol {
  readonly name: string;
  /** The plugin file that defined it, for errors. */
  readonly file: string;
  readonly pluginName: string;
  /** lws rx_buffer_size: the piece size for a protocol with receiveFragments. */
  readonly rxBufferSize: number;
  /** Messages longer than rxBufferSize reach `receive` in rxBufferSize pieces. */
  readonly receiveFragments: boolean;
  /** The plugin's own bound on a message; the vhost's ws-max-message-size caps it. */
  readonly maxMessageSize: number | undefined;
  readonly inbox: InboxLimits;
  readonly httpBodyLimit: number;
  /** Upgrades under its callback:// mounts come to it whatever subprotocol they name. */
  readonly mountUpgrades: boolean;
  readonly rateLimit: { readonly perMs: number; readonly burst: number } | undefined;
  readonly optionSpecs: OptionSpecs;
  readonly session: ((vhost: ProtocolVhost, req: PeerRequest) => unknown) | undefined;
  readonly check: ((options: Readonly<Record<string, unknown>>, where: ProtocolCheckSite) => void) | undefined;
  readonly callbacks: RuntimeCallbacks;
}

/** lws's default receive buffer (rx_buffer_size 0 means this). */
export const DEFAULT_RX_BUFFER_SIZE = 4096;
export const DEFAULT_INBOX: InboxLimits = { maxMessages: 1024, maxBytes: 4 * 1024 * 1024, onOverflow: 'close' };
