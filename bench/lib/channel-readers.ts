/** @module The resume scenario's readers: tsws/client clients subscribed to channels, each checking every offset it is given. */
import { WebSocket } from 'ws';
import { connect, type ChannelClient } from 'tsws/client';
import { sleep } from './proc.ts';

/**
 * Retries every 100 ms at first, never more than 500 ms apart (tsws/client's
 * default cap is 30 s): the figure is how fast the server resumes them, and
 * at most 0.5 s of it is a reader waiting for its next attempt.
 */
export const READER_BACKOFF = { initialMs: 100, maxMs: 500 } as const;

export interface Reader {
  readonly client: ChannelClient;
  readonly channel: string;
  /** The last offset delivered (in `epoch`). */
  last: number;
  epoch: string | undefined;
  /** Subscriptions the server confirmed (the first, then one per reconnect). */
  subscribed: number;
  /** Gaps the client reported, offsets that were not the next one, and resubscriptions that did not recover: each must stay 0. */
  gaps: number;
  /** When (performance.now()) it last opened, and when it delivered the offset `awaited`. */
  openedAt: number;
  caughtUpAt: number;
  awaited: number;
}

/** Opens `perChannel` readers on each channel (ws's WebSocket: Node 20 has no global one). */
export function openReaders(url: string, protocol: string, channels: readonly string[], perChannel: number): Reader[] {
  return channels.flatMap((channel) =>
    Array.from({ length: perChannel }, () => {
      const client = connect(url, { protocol, WebSocket, backoff: READER_BACKOFF });
      const r: Reader = { client, channel, last: 0, epoch: undefined, subscribed: 0, gaps: 0, openedAt: Number.NaN, caughtUpAt: Number.NaN, awaited: Number.POSITIVE_INFINITY };
      client.on('state', (s) => void (s.state === 'open' && (r.openedAt = performance.now())));
      client.subscribe(channel, {
        onMessage: (m) => {
          // The client already drops repeats and reports jumps as gaps; this checks that promise too.
          if (r.epoch !== undefined && (m.epoch !== r.epoch || m.offset !== r.last + 1)) r.gaps++;
          r.epoch = m.epoch;
          r.last = m.offset;
          if (m.offset >= r.awaited && Number.isNaN(r.caughtUpAt)) r.caughtUpAt = performance.now();
        },
        onGap: () => void r.gaps++,
        onSubscribed: ({ position, recovered }) => {
          r.subscribed++;
          r.epoch ??= position.epoch;
          if (r.subscribed === 1) r.last = position.offset;
          else if (recovered !== true) r.gaps++;
        },
      });
      return r;
    }),
  );
}

/** Waits until `pred` holds (checked every 10 ms); false after `ms`. */
export async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}
