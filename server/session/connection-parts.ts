/** @module The rarely-made parts of a websocket connection (inbox, stall watch, timers, topics, limits, auth), kept apart so an idle connection pays one field for them. */
import type { ConnAuth } from './conn-auth.ts';
import type { Inbox } from './inbox.ts';
import type { ReceiveLimits } from './receive-limits.ts';
import type { StallWatch } from './stall-watch.ts';
import type { OwnedTimers } from './timers.ts';

/** The parts of a connection most never make, in one object made by the first of them (see Connection.#rare): an idle connection keeps one field for all six. */
export class ConnectionParts {
  /** Published messages waiting for writable; created by the first one (most connections subscribe to nothing). */
  inbox: Inbox | undefined = undefined;
  /** Judges a member over its inbox bound (see deliverPublished); made by the first such judgement. */
  stall: StallWatch | undefined = undefined;
  timers: OwnedTimers | undefined = undefined;
  topics: Set<string> | undefined = undefined;
  /** Rate limits every message passes (the protocol's bucket, the vhost's shared ones): made when the protocol or vhost has one. */
  limits: ReceiveLimits | undefined = undefined;
  /** Who the filter said this is, or the last renewAuth (closes with 4001 at its expiry): made when the connection has auth. */
  auth: ConnAuth | undefined = undefined;
}
