/**
 * @module tsws/client's reading position in one channel: which messages to deliver, which are
 * duplicates to drop, and when a jump (a resume that failed, a gap frame, an offset that skips, a new
 * epoch) is reported as one gap. Pure: the connection feeds it frames, it answers what to do.
 */
import type { ChannelPosition } from '../plugin/api-channels.ts';

/** Why messages will never arrive: the server's reasons, and 'skipped' for an offset that jumped with no reason given. */
export type GapReason = 'epoch-changed' | 'too-old' | 'unavailable' | 'skipped';

/** Messages of `channel` after `from` up to `to` (inclusive) will never be delivered. */
export interface Gap {
  readonly channel: string;
  readonly from: ChannelPosition;
  readonly to: ChannelPosition;
  readonly reason: GapReason;
}

export type MessageVerdict = { readonly deliver: false } | { readonly deliver: true; readonly gap?: Gap };

/*
 * Why this shape: the offsets, not the frames' order, decide. A server may
 * send a channel's first messages before its `subscribed` (the store queued
 * them while the helper waited for the subscription), may resend what a
 * resume already delivered, and an epoch is opaque (it cannot be ordered). So
 * every message is judged against the last position delivered: the next
 * offset of the same epoch is delivered, an older one dropped, a later one
 * delivered after a 'skipped' gap, another epoch's after an 'epoch-changed'
 * gap. A `subscribed` that did not recover moves the position to the
 * channel's, with one gap, unless messages already took it there.
 */
export class ReadPosition {
  readonly #channel: string;
  #at: ChannelPosition | undefined;

  constructor(channel: string, start?: ChannelPosition) {
    this.#channel = channel;
    this.#at = start;
  }

  /** The last position delivered (or the channel's, once subscribed): what a resubscribe sends as `since`. */
  get position(): ChannelPosition | undefined {
    return this.#at;
  }

  subscribed(epoch: string, offset: number, recovered: boolean | undefined, reason: GapReason | undefined): Gap | undefined {
    const at = this.#at;
    const now = { epoch, offset };
    if (at === undefined) {
      this.#at = now;
      return undefined;
    }
    if (at.epoch === epoch && at.offset >= offset) return undefined; // delivered up to there or past it already
    if (recovered === true && at.epoch === epoch) return undefined; // the missed messages follow
    this.#at = now;
    // Without `since` nothing was promised before the channel's position: no gap, just a start.
    if (recovered === undefined && at.epoch === epoch) return undefined;
    return { channel: this.#channel, from: at, to: now, reason: at.epoch === epoch ? (reason ?? 'skipped') : 'epoch-changed' };
  }

  /** Whether a message at this position comes straight after the last one delivered. */
  follows(epoch: string, offset: number): boolean {
    return this.#at !== undefined && this.#at.epoch === epoch && this.#at.offset + 1 === offset;
  }

  message(epoch: string, offset: number): MessageVerdict {
    const at = this.#at;
    this.#at = { epoch, offset };
    if (at === undefined) return { deliver: true };
    if (at.epoch === epoch) {
      if (offset <= at.offset) {
        this.#at = at;
        return { deliver: false };
      }
      if (offset === at.offset + 1) return { deliver: true };
      return { deliver: true, gap: { channel: this.#channel, from: at, to: { epoch, offset: offset - 1 }, reason: 'skipped' } };
    }
    return { deliver: true, gap: { channel: this.#channel, from: at, to: { epoch, offset: offset - 1 }, reason: 'epoch-changed' } };
  }

  /** A server's gap frame: reported unless the position is already past its end. */
  gap(from: ChannelPosition, to: ChannelPosition, reason: GapReason): Gap | undefined {
    const at = this.#at;
    if (at !== undefined && at.epoch === to.epoch && at.offset >= to.offset) return undefined;
    this.#at = to;
    return { channel: this.#channel, from: at ?? from, to, reason };
  }
}
