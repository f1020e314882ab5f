/** @module count-threads: what a worker thread's channel store and the main thread's channel host tell each other. */
import type { ChannelMessage, ChannelPosition, PresenceEvent } from '../plugin/api-channels.ts';
import type { StoredChannel } from './store.ts';

/** Worker → main: one store operation; `id` comes back on its reply. */
export type ChannelRequest =
  | { readonly t: 'publish'; readonly id: number; readonly channel: StoredChannel; readonly data: Uint8Array | string; readonly isBinary: boolean }
  | { readonly t: 'position'; readonly id: number; readonly channel: StoredChannel }
  | { readonly t: 'read'; readonly id: number; readonly channel: StoredChannel; readonly since: ChannelPosition | undefined; readonly limit: number }
  | { readonly t: 'join'; readonly id: number; readonly channel: StoredChannel; readonly localId: string; readonly info: unknown }
  | { readonly t: 'leave'; readonly id: number; readonly channel: StoredChannel; readonly localId: string }
  | { readonly t: 'members'; readonly id: number; readonly channel: StoredChannel }
  /** This thread follows the channel now (its first subscriber), or no longer: the main thread frees no channel a thread follows. */
  | { readonly t: 'follow'; readonly id: number; readonly channel: StoredChannel }
  | { readonly t: 'unfollow'; readonly id: number; readonly channel: StoredChannel };

/** A publication between threads: bytes travel as a Uint8Array of just their own (a Buffer's pool would be cloned whole). */
export type WireMessage = Omit<ChannelMessage, 'data'> & { readonly data: Uint8Array | string };

/** Main → worker: a reply, or a publication or presence change of any channel (sent to every worker, in the order they happened). */
export type ChannelNotice =
  | { readonly t: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly t: 'failed'; readonly id: number; readonly code: string | undefined; readonly message: string }
  | { readonly t: 'message'; readonly message: WireMessage }
  | { readonly t: 'presence'; readonly key: string; readonly event: PresenceEvent };

/** The end of a MessageChannel a side holds (node:worker_threads' MessagePort has this shape). */
export interface ChannelPort {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  unref(): void;
  close(): void;
}
