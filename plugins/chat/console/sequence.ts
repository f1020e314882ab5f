/** @module What a client says of a gap in its room's channel (tsws/client reports each one): the same words as the web page's chat.js. */
import type { Gap } from '../../../server/client-lib/index.ts';

/** Said when the room's channel starts a new epoch (its store lost its state: a restart, a Redis that came back empty). */
export const RESTARTED = "the server's message sequence restarted; messages sent while it was down may be missing";

export const missed = (from: number, to: number): string =>
  from === to ? `message #${from} of this room did not arrive` : `messages #${from} to #${to} of this room did not arrive`;

/**
 * Why every gap is said out loud: a client that skips silently leaves its
 * reader believing the conversation is whole. A new epoch cannot say how
 * much went missing (its offsets start again), so it is "restarted"; a gap
 * within an epoch names the offsets that will never arrive (trimmed from the
 * history while the client was away, or the store could not be read).
 */
export function gapNotice(gap: Gap): string {
  if (gap.reason === 'epoch-changed' || gap.from.epoch !== gap.to.epoch) return RESTARTED;
  return missed(gap.from.offset + 1, gap.to.offset);
}
