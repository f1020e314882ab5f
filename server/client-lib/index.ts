/**
 * @module `tsws/client`: a typed channel client for browsers and Node (ESM, no dependencies): connects,
 * reconnects with backoff and jitter, resubscribes from the last position seen, reports gaps.
 * docs/reference/client.md describes it.
 */
import { ChannelClient } from './client.ts';
import type { ChannelMap, ConnectOptions } from './types.ts';

export { ChannelClient } from './client.ts';
export { ChannelError } from './errors.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export type { Gap, GapReason } from './position.ts';
export type {
  ChannelMap, ChannelPosition, ClientEvents, ClientState, ConnectOptions, PresenceChange, PresenceMember, ReceivedMessage, SubscribeOptions, Subscription,
  Timers, WebSocketConstructor, WebSocketLike,
} from './types.ts';

/** Opens a client at once (state 'connecting'); `M` names the channels and the data each carries. */
export function connect<M extends ChannelMap = ChannelMap>(url: string, opts?: ConnectOptions): ChannelClient<M> {
  return new ChannelClient<M>(url, opts);
}
