/**
 * @module The channel wire frames: the JSON text messages tsws/client and a plugin's channel helper
 * exchange (subscribe with resume, messages with positions, gaps, presence). Types only; a frame is
 * recognised by its "ch" member, so a protocol can mix them with its own messages.
 */
import type { ChannelPosition, PresenceMember } from './api-channels.ts';

/** client → server */
export type ClientFrame =
  | { readonly ch: 'subscribe'; readonly channel: string; readonly since?: ChannelPosition; readonly presence?: boolean }
  | { readonly ch: 'unsubscribe'; readonly channel: string }
  | { readonly ch: 'publish'; readonly channel: string; readonly data: unknown; readonly ref?: string }
  /** Token refresh over the connection (the JWT filter's): the new token replaces the old before it expires. */
  | { readonly ch: 'token'; readonly token: string };

/** server → client */
export type ServerFrame =
  | {
      readonly ch: 'subscribed';
      readonly channel: string;
      /** The channel's position when the subscription took effect; live messages follow it. */
      readonly epoch: string;
      readonly offset: number;
      /** Only when the subscribe carried `since`. */
      readonly recovered?: boolean;
      readonly reason?: 'epoch-changed' | 'too-old' | 'unavailable';
      readonly members?: readonly PresenceMember[];
    }
  | { readonly ch: 'message'; readonly channel: string; readonly epoch: string; readonly offset: number; readonly time: number; readonly data: unknown }
  /**
   * Messages after `from` up to `to` will never arrive (trimmed, or the epoch
   * changed): the client shows that instead of skipping silently.
   */
  | { readonly ch: 'gap'; readonly channel: string; readonly from: ChannelPosition; readonly to: ChannelPosition; readonly reason: 'epoch-changed' | 'too-old' | 'unavailable' }
  | { readonly ch: 'presence'; readonly channel: string; readonly event: 'join' | 'leave'; readonly member: PresenceMember }
  | { readonly ch: 'published'; readonly channel: string; readonly ref?: string; readonly epoch: string; readonly offset: number }
  | { readonly ch: 'unsubscribed'; readonly channel: string }
  | { readonly ch: 'error'; readonly channel?: string; readonly ref?: string; readonly code: string; readonly message: string };
