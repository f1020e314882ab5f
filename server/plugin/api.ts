/**
 * @module The public plugin API: the types and helpers a plugin file imports (`tsws/plugin`). Nothing
 * here loads uWebSockets.js (a test keeps it so): a plugin's types and unit tests work where the
 * transport cannot load; helpers that need it are in `tsws/plugin/runtime` (runtime.ts).
 */
import type { Logger } from 'pino';
import { VERSION } from '../base/version.ts';
import type { Timer, WriteStatus } from './api-base.ts';
import type { PluginDescriptor } from './api-v1.ts';
import type { Plugin } from './api-v2.ts';

export type { Logger, Timer, WriteStatus };
export type { ClientCallbacks, ClientConnectInfo, ClientState, ClientTls, ReconnectAttempt, ReconnectPolicy } from './api-client.ts';
export type { ListenerSnapshot, ProtocolSnapshot, ServerSnapshot, ServerView, ThreadSnapshot, TrafficCounts, VhostSnapshot } from './api-server.ts';
export type {
  Channel, ChannelConn, ChannelHistory, ChannelMessage, ChannelOptions, ChannelPosition, ChannelPresence, ChannelRecovery, Channels, ChannelSubscription,
  PresenceEvent, PresenceMember,
} from './api-channels.ts';
export type { ClientFrame, ServerFrame } from './channel-frames.ts';
export type { ClusterView, Presence, PresenceEntry, PresenceOptions, SharedLog, SharedLogEntry, SharedLogOptions } from './api-cluster.ts';
export type { AccessVerdict, Accepted, Authenticated, FilterVerdict, Fragment, HeaderInput, HttpRequestInfo, PeerRequest, Published, Refusal, UpgradeAccept, Verdict } from './api-request.ts';
export type { NoOptions, OptionSpec, OptionSpecs, OptionValues, ProtocolCheckSite, ProtocolSettings, WsCompression } from './api-options.ts';
export type { ClientConn, Conn, HttpTxn, InboxBound, ProtocolVhost, ProtocolVhostInit } from './api-handles.ts';
export type {
  DefineProtocol, DefinedProtocol, HttpEvents, HttpObject, HttpPart, HttpTable, Plugin, PluginVhost, PluginVhostInit,
  Protocol, WebsocketPart, WsEvents, WsObject, WsTable,
} from './api-v2.ts';
export type { AnyProtocolDef, Callbacks, HttpCallbacks, InitCallback, PluginDescriptor, ProtocolDef, WsCallbacks } from './api-v1.ts';
export { RESERVED_OPTIONS } from './api-options.ts';
export { defineProtocol } from './api-v1.ts';

/** Bumped when a plugin written for the previous version could misbehave; the loader still adapts version 1. */
export const PLUGIN_API_VERSION = 2;
/** Every apiVersion this server loads: 1 through an adapter made at load time (v1-adapter.ts). */
export const PLUGIN_API_VERSIONS = [1, 2] as const;

/** The version of the tsws running this plugin (its package.json's), e.g. for a status message. */
export const TSWS_VERSION: string = VERSION;

/*
 * The callback names, as in lws's callback state machine. These tuples are
 * the single source for both the types (the type tests hold them equal to
 * the interfaces' keys) and the loader's validation.
 */
/** A protocol's lws PROTOCOL_INIT and PROTOCOL_DESTROY; in version 2 a plugin has the same two for its own state. */
export const VHOST_CALLBACKS = ['init', 'destroy'] as const;
/** What a websocket connection is told, in a table (with the connection first) or as the methods of its object (WsEvents). */
export const WS_EVENTS = ['established', 'receive', 'writable', 'closed'] as const;
/** What an HTTP transaction is told, in a table (with the transaction first) or as the methods of its object (HttpEvents). */
export const HTTP_EVENTS = ['http', 'httpBody', 'httpBodyCompletion', 'httpWritable', 'httpClosed'] as const;
/** Version 2: the keys of a protocol's `websocket` part. */
export const WEBSOCKET_KEYS = ['filter', 'session', 'connection', ...WS_EVENTS] as const;
/** Version 2: the keys of a protocol's `http` part. */
export const HTTP_KEYS = ['filter', 'session', 'transaction', ...HTTP_EVENTS] as const;
/** Version 1: one `callbacks` table. */
export const WS_CALLBACKS = ['filter', ...WS_EVENTS] as const;
export const HTTP_CALLBACKS = ['checkAccess', ...HTTP_EVENTS] as const;
export const CALLBACK_NAMES = [...VHOST_CALLBACKS, ...WS_CALLBACKS, ...HTTP_CALLBACKS] as const;
export type CallbackName = (typeof CALLBACK_NAMES)[number];

/**
 * The default export of a plugin file. Version 2: the plugin's state P is
 * inferred from its `init` and reaches every protocol that `protocols`
 * defines with the `protocol` it is given.
 */
/** @deprecated apiVersion 1: still loaded (through an adapter); see docs/guides/migrating-to-v2.md. */
export function definePlugin<const D extends PluginDescriptor>(descriptor: D): D;
export function definePlugin<P = undefined>(descriptor: Plugin<P>): Plugin<P>;
export function definePlugin(descriptor: Plugin<unknown> | PluginDescriptor): Plugin<unknown> | PluginDescriptor {
  return descriptor;
}

/** Coded errors, e.g. to tell TSWS_ERR_CLUSTER_UNAVAILABLE (Redis away for a moment) from a bug. */
export { isTswsError, type TswsError } from '../base/errors.ts';
export { checkLock, lockFile, type FileLock } from '../base/file-lock.ts';

/** A flood limit a plugin can keep per connection or per name (pure arithmetic, no transport). */
export { TokenBucket } from '../base/token-bucket.ts';

/** Recycled buffers for data a receiveData 'view' protocol holds until writable (lws_ring's job). */
export { BufferPool } from '../base/buffer-pool.ts';
