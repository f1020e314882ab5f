/** @module tsws/client's public types: options, states, handlers, and the WebSocket it needs (no DOM types, so it compiles for Node and browsers alike). */
import type { ChannelPosition, PresenceMember } from '../plugin/api-channels.ts';
import type { BackoffOptions } from './backoff.ts';
import type { ChannelError } from './errors.ts';
import type { Gap } from './position.ts';

export type { ChannelPosition, PresenceMember };

/** A handler type checked bivariantly, so both the DOM's WebSocket and ws's (whose events are richer) fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** What the client needs of a WebSocket: the browser's, Node 22's global, or ws's. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The clock reconnects run on; tests pass their own to see the delays without waiting for them. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Channel names and the data each carries, for `connect<Map>()`: exact names,
 * or patterns such as `{ [name: \`room:${string}\`]: ChatLine }`. The default
 * lets any name carry unknown data.
 */
export type ChannelMap = Record<string, unknown>;

export interface ConnectOptions {
  /** The websocket subprotocol (or several) the server's plugin serves. */
  readonly protocol?: string | readonly string[];
  readonly backoff?: BackoffOptions;
  /** A connection not open after this long is dropped and retried (default 10 000 ms). */
  readonly openTimeoutMs?: number;
  /** Whether to reconnect after a close (default: always, until close() is called). */
  readonly reconnect?: (close: { readonly code: number; readonly reason: string }) => boolean;
  /** Node 20 has no global WebSocket: pass ws's (`import { WebSocket } from 'ws'`). */
  readonly WebSocket?: WebSocketConstructor;
  /** The jitter's random source, [0, 1) (default Math.random). */
  readonly random?: () => number;
  readonly timers?: Timers;
}

export type ClientState =
  /** `attempt` 0 is the first connection, n the n-th retry since the last open. */
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'open' }
  /** Lost (or never opened): the next attempt starts after `delayMs`. */
  | { readonly state: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly code: number; readonly reason: string }
  /** For good: close() was called, or `reconnect` said no. */
  | { readonly state: 'closed'; readonly code: number; readonly reason: string };

/** One message of a channel, with the position it holds there. */
export interface ReceivedMessage<T> extends ChannelPosition {
  readonly channel: string;
  /** When the server's store took it (milliseconds since 1970, the server's clock). */
  readonly time: number;
  readonly data: T;
}

export interface PresenceChange {
  readonly channel: string;
  readonly event: 'join' | 'leave';
  readonly member: PresenceMember;
  /** Every member after this change. */
  readonly members: readonly PresenceMember[];
}

export interface SubscribeOptions<T> {
  /** Each message once, in offset order. */
  onMessage(message: ReceivedMessage<T>): void;
  /** Messages that will never arrive (see docs/reference/client.md, "Gaps"); without it gaps pass unseen. */
  onGap?(gap: Gap): void;
  /** Each (re)subscription the server confirmed: the channel's position then, and whether the resume recovered everything. */
  onSubscribed?(info: { readonly position: ChannelPosition; readonly recovered: boolean | undefined; readonly members: readonly PresenceMember[] }): void;
  /** Ask for presence: the member list on subscribe, then each join and leave. */
  readonly presence?: boolean;
  onPresence?(change: PresenceChange): void;
  /** The server refused or failed the subscription (its `error` frame); the client still resubscribes after a reconnect. */
  onError?(error: ChannelError): void;
  /** Resume from a position kept elsewhere (say, across a page reload): the first subscribe sends it as `since`. */
  readonly since?: ChannelPosition;
}

export interface Subscription {
  readonly channel: string;
  /** The last message delivered, or the channel's position when subscribed; undefined before either. */
  readonly position: ChannelPosition | undefined;
  /** The presence set as last heard (with `presence: true`). */
  readonly members: readonly PresenceMember[];
  readonly active: boolean;
  unsubscribe(): void;
}

export interface ClientEvents {
  state: (state: ClientState) => void;
  /** A message of the protocol's own (not a channel frame): text as a string, binary as an ArrayBuffer. */
  message: (data: string | ArrayBuffer) => void;
  /** A server `error` frame that no publish or subscription claimed. */
  error: (error: ChannelError) => void;
}
