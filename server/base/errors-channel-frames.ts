/**
 * @module Registry entries for the channel frames (spread into errors.ts's REGISTRY): what a plugin's
 * channel helper answers in an `error` frame, and what tsws/client raises itself (client/errors.ts
 * writes those texts again, for the browser; client/errors.test.ts keeps the two equal).
 */
import { error } from './error-entry.ts';

type On = { channel: string };

export const CHANNEL_FRAME_ERRORS = {
  // ---- answered by the server's helper (tsws/plugin/runtime channelFrames) ----
  TSWS_ERR_CHANNEL_FRAME: error<{ detail: string }>(
    (p) => `bad channel frame: ${p.detail}`,
    'Send the frames of docs/reference/client.md ("Wire frames"), or use tsws/client, which does.'),
  TSWS_ERR_CHANNEL_DENIED: error<On & { action: 'subscribe to' | 'publish to' }>(
    (p) => `this protocol does not let this connection ${p.action} channel "${p.channel}"`,
    'The plugin\'s channel policy (channelFrames\' `channel` and `mayPublish`) decides: use a channel it serves, or change the policy.'),
  TSWS_ERR_CHANNEL_LIMIT: error<On & { limit: number }>(
    (p) => `refused to subscribe to channel "${p.channel}": this connection is subscribed to ${p.limit} channels, the protocol's limit`,
    'Unsubscribe from a channel first, or open another connection; the plugin sets the limit (channelFrames\' `maxChannels`, default 128).'),
  TSWS_ERR_CHANNEL_UNAVAILABLE: error<On & { action: 'subscribe to' | 'publish to' }>(
    (p) => `could not ${p.action} channel "${p.channel}" now: its store is unavailable (in a cluster: Redis is away)`,
    'Nothing was done; try again shortly. tsws/client subscribes again by itself, with backoff; a publish is yours to send again.'),
  TSWS_ERR_CHANNEL_FAILED: error<On & { action: 'subscribe to' | 'publish to'; reason: string }>(
    (p) => `could not ${p.action} channel "${p.channel}": ${p.reason}`,
    'The channel\'s store failed (in a cluster: Redis away?); see the server\'s log. tsws/client resubscribes after a reconnect; a publish can be tried again.'),
  TSWS_ERR_CHANNEL_FRAMES_UNREAD: error<{ protocol: string; frames: number; bytes: number }>(
    (p) => `protocol "${p.protocol}": channelFrames holds ${p.frames} frames (${p.bytes} bytes) the client has not read, past the protocol's inbox bound`,
    'A client that sends channel frames and does not read the answers is closed (1008 "slow consumer"), as a reader behind on its publications is; raise the protocol\'s inbox limits if it is legitimate.',
    { closeCode: 1008 }),

  // ---- raised by tsws/client itself -----------------------------------------
  TSWS_ERR_CHANNEL_NO_WEBSOCKET: error<Record<string, never>>(
    () => 'tsws/client: this runtime has no global WebSocket (Node before 22)',
    'Pass one: connect(url, { WebSocket }) with WebSocket from the "ws" package.'),
  TSWS_ERR_CHANNEL_DISCONNECTED: error<On>(
    (p) => `tsws/client: the connection dropped before the server answered a publish to "${p.channel}"; it may or may not have been stored`,
    'Publish again if a duplicate is harmless, or read the channel to see.'),
  TSWS_ERR_CHANNEL_CLOSED: error<On>(
    (p) => `tsws/client: a publish to "${p.channel}" was given after close(), or was waiting when close() was called`,
    'Open a new client with connect().'),
  TSWS_ERR_CHANNEL_SUBSCRIBED_TWICE: error<On>(
    (p) => `tsws/client: already subscribed to "${p.channel}" on this client`,
    'Unsubscribe the first subscription, or share its onMessage.'),
} as const;
