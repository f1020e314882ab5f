/**
 * @module What holds channels: the interface the three stores implement (this process; count-threads'
 * main thread; the cluster's Redis). vhost.channels (channel.ts) builds subscribe-with-resume on it.
 */
import type { ChannelHistory, ChannelMessage, ChannelPosition, PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';

/** A channel as the store knows it: its key is already scoped to vhost and protocol. */
export interface StoredChannel {
  readonly key: string;
  /** "<vhost>/<protocol>": the scope whose idle channels are bounded together (idle-channels.ts). */
  readonly scope: string;
  /** 0: keep none. */
  readonly historySize: number;
  /** 0: no age bound. */
  readonly historyTtlMs: number;
}

/**
 * Contract (test/channels/conformance.ts holds every store to it): offsets
 * count 1, 2, 3... per channel within an epoch, with no hole and no repeat,
 * whichever thread or instance publishes; every follower of a channel
 * receives each publication once, in offset order; `read` and `follow`
 * agree, so a reader that follows first and reads second can merge the two
 * without a gap or a duplicate.
 */
export interface ChannelStore {
  /** Assigns the next position, keeps the message if history is kept, and delivers it to every follower everywhere. */
  publish(channel: StoredChannel, data: Buffer | string, isBinary: boolean): Promise<ChannelMessage>;
  position(channel: StoredChannel): Promise<ChannelPosition>;
  /** Kept messages after `since` (all without it), oldest first, at most `limit`. */
  read(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): Promise<ChannelHistory>;
  /** Live publications of the channel, on this thread; returns the function that stops them. */
  follow(channel: StoredChannel, deliver: (message: ChannelMessage) => void): () => void;
  /** `holderLocalId` is unique on this thread (a connection id); the store makes it unique everywhere. */
  join(channel: StoredChannel, holderLocalId: string, info: unknown): Promise<PresenceMember>;
  leave(channel: StoredChannel, holderLocalId: string): Promise<void>;
  members(channel: StoredChannel): Promise<PresenceMember[]>;
  onPresence(channel: StoredChannel, fn: (event: PresenceEvent) => void): () => void;
  close(): Promise<void>;
}
