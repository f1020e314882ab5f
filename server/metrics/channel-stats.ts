/** @module The channels' counters (vhost.channels): plain integers the metrics endpoint reads when scraped. */

/** How a subscribe or history read with `since` ended (ChannelRecovery): 'recovered' or the reason it could not. */
export const RECOVERY_RESULTS = ['recovered', 'epoch-changed', 'too-old', 'unavailable'] as const;
export type RecoveryResult = (typeof RECOVERY_RESULTS)[number];

/**
 * Counted on the thread where it happens, so the threads' metrics mesh adds
 * them up into the process's figure: publications by the publishing thread,
 * recoveries by the subscribing one, presence members by the thread holding
 * the member's connection.
 */
export interface ChannelStats {
  published: number;
  readonly recoveries: Record<RecoveryResult, number>;
  /** Gauge: presence members whose connection this thread holds. */
  members: number;
}

export function newChannelStats(): ChannelStats {
  return { published: 0, recoveries: { recovered: 0, 'epoch-changed': 0, 'too-old': 0, unavailable: 0 }, members: 0 };
}
