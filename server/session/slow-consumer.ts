/** @module The slow-consumer policy of a connection's inbox: what one more published message past the bound calls for. */
import type { Published } from '../plugin/api.ts';
import type { InboxLimits } from '../plugin/runtime-protocol.ts';
import type { Inbox } from './inbox.ts';

/** The message is queued; nothing else to do. */
export const ADMITTED = 0;
/** Past four times the bound: close the connection now (1008). */
export const CLOSE = -1;
/** Over the bound with the socket choked: watch it (stall-watch.ts) and close it if it stays so. */
export const WATCH = -2;

/**
 * Queues `msg` and applies the protocol's bound, so no plugin can forget
 * it. On overflow the protocol either closes the connection (1008, the
 * default: a reader that cannot keep up would otherwise see a stream with
 * holes) or drops the oldest messages.
 *
 * Being over the bound is not enough to be slow: a member that reads, but
 * whose sender bursts faster than one socket drains (a 48 MB burst from a
 * mirror member to itself), is behind without being stuck. As lws hangs up
 * on whoever holds the oldest ring entry for 3 s, a member is closed when
 * it is over the bound with its socket choked and no drain (nothing read by
 * its peer) for STALL_MS (stall-watch.ts). Four times the bound closes it at
 * once whatever it reads, so memory stays bounded.
 *
 * Returns ADMITTED, CLOSE, WATCH, or how many oldest messages were dropped.
 */
export function admit(inbox: Inbox, msg: Published, limits: InboxLimits, choked: boolean): number {
  inbox.push(msg);
  if (!inbox.over(limits)) return ADMITTED;
  if (limits.onOverflow === 'drop-oldest') {
    let dropped = 0;
    if (choked || inbox.over(limits, 4)) {
      while (inbox.over(limits)) {
        inbox.shift();
        dropped++;
      }
    }
    return dropped;
  }
  if (inbox.over(limits, 4)) return CLOSE;
  return choked ? WATCH : ADMITTED;
}
