/** @module Plugin API, protocol options declared as data: their specs and the typed values a vhost gives (re-exported by api.ts). */
import type { WsCompression } from '../config/model.ts';

export type { WsCompression } from '../config/model.ts';

export type OptionSpec =
  | { readonly type: 'string'; readonly default?: string; readonly doc: string }
  /** A file or directory: a relative value (the default included) is resolved against the config directory, `_lws_ddir_` expanded. */
  | { readonly type: 'path'; readonly default?: string; readonly doc: string }
  | { readonly type: 'int'; readonly default?: number; readonly min?: number; readonly max?: number; readonly doc: string }
  | { readonly type: 'bool'; readonly default?: boolean; readonly doc: string };

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A protocol that declares no options. */
export type NoOptions = Record<never, OptionSpec>;

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
  'permessage-deflate': { type: 'string', doc: 'tsws: permessage-deflate for this protocol on this vhost, above the plugin\'s compression setting: "off", "shared", or "dedicated-3k" to "dedicated-256k" ("0" and "1" read as off and shared).' },
};

/** Where a protocol's `check` runs: the vhost, and whether a cluster (Redis) is configured. */
export interface ProtocolCheckSite {
  readonly vhostName: string;
  readonly clustered: boolean;
}

/** What every protocol definition may set besides its callbacks, in both API versions. */
export interface ProtocolSettings<O extends OptionSpecs> {
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
   * What `receive`'s data is. 'copy' (the default): the plugin's own copy,
   * keep it as long as you like. 'view': a view of the transport's buffer,
   * valid only until `receive` returns (lws's `in`), as uWS.js hands it over:
   * no allocation per message, but whatever is kept past the call (queued
   * for `writable`, used after an `await`) must be copied first, for
   * example into a BufferPool buffer that `writable` gives back once written.
   * A view kept by mistake reads as empty, never as another message's bytes.
   */
  readonly receiveData?: 'copy' | 'view';
  /**
   * Largest message accepted, in bytes; larger ones close with 1009. The
   * vhost's "ws-max-message-size" (default 16 MiB) caps it: a plugin can only
   * lower the limit its vhost sets.
   */
  readonly maxMessageSize?: number;
  /**
   * permessage-deflate (default 'off'): 'shared' compresses with one
   * compressor per thread, 'dedicated-4k'... give each connection its own,
   * holding that much memory, for better ratios on streams of similar
   * messages. Leave it off where a message mixes a secret with what a client
   * chose (CRIME/BREACH: the compressed size leaks the secret). A vhost's
   * "permessage-deflate" in this protocol's ws-protocols entry wins.
   */
  readonly compression?: WsCompression;
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
   * filter sees `req.mountpoint` and `req.pathInMount`, and may accept with
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
}
