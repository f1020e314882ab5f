/** @module What every store computes the same way: the recovery verdict for a position, and the checks on names, options and positions. */
import { tswsError } from '../base/errors.ts';
import type { ChannelOptions, ChannelPosition, ChannelRecovery } from '../plugin/api-channels.ts';
import { echoedName, nameProblem } from '../plugin/channel-names.ts';
/** Largest history a channel may keep: a bound the operator can reason about, per channel. */
export const MAX_HISTORY = 1_000_000;

/**
 * The one rule for "can everything after `since` be given?", shared by the
 * stores so they cannot disagree. `firstKept` is the oldest offset still kept
 * (after the age bound), undefined when none is. A position ahead of the
 * channel is 'too-old' too: it belongs to a history this store no longer has
 * (a Redis restored from an older snapshot); the reader must start again.
 */
export function recoveryOf(since: ChannelPosition, epoch: string, last: number, firstKept: number | undefined): ChannelRecovery {
  if (since.epoch !== epoch) return { recovered: false, reason: 'epoch-changed' };
  if (since.offset > last) return { recovered: false, reason: 'too-old' };
  if (since.offset === last) return { recovered: true, missed: 0 };
  if (firstKept !== undefined && firstKept <= since.offset + 1) return { recovered: true, missed: last - since.offset };
  return { recovered: false, reason: 'too-old' };
}

export interface Where {
  readonly vhost: string;
  readonly protocol: string;
}

export function checkName(where: Where, name: unknown): string {
  // The error repeats only the start of the name: it goes to logs and, through channelFrames, back to the client.
  const fail = (reason: string) => tswsError('TSWS_ERR_CHANNEL_NAME', { ...where, name: echoedName(String(name)), reason });
  if (typeof name !== 'string') throw fail(`the name is ${typeof name}, not a string`);
  const problem = nameProblem(name);
  if (problem !== undefined) throw fail(problem);
  return name;
}

/** The options as numbers, checked: { size, ttlMs }. */
export function checkOptions(where: Where, name: string, opts: ChannelOptions | undefined): { size: number; ttlMs: number } {
  const fail = (reason: string) => tswsError('TSWS_ERR_CHANNEL_OPTIONS', { ...where, name, reason });
  const h = opts?.history;
  if (h === undefined) return { size: 0, ttlMs: 0 };
  if (typeof h !== 'object' || h === null) throw fail('history must be an object { size, ttlSecs? }');
  if (!Number.isInteger(h.size) || h.size < 0 || h.size > MAX_HISTORY) throw fail(`history.size is ${String(h.size)}, not an integer from 0 to ${MAX_HISTORY}`);
  const ttl = h.ttlSecs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0) throw fail(`history.ttlSecs is ${String(ttl)}, not an integer of 0 or more`);
  if (ttl > 0 && h.size === 0) throw fail('history.ttlSecs is set but history.size is 0: nothing would be kept to age');
  return { size: h.size, ttlMs: ttl * 1000 };
}

export function checkPosition(where: Where, name: string, pos: unknown, what: string): ChannelPosition {
  const p = pos as Partial<ChannelPosition> | null;
  const fail = (reason: string) => tswsError('TSWS_ERR_CHANNEL_POSITION', { ...where, name, reason: `${what} ${reason}` });
  if (typeof p !== 'object' || p === null) throw fail('is not an object { epoch, offset }');
  if (typeof p.epoch !== 'string') throw fail('has no string epoch');
  if (typeof p.offset !== 'number' || !Number.isSafeInteger(p.offset) || p.offset < 0) throw fail(`has offset ${String(p.offset)}, not an integer >= 0`);
  return { epoch: p.epoch, offset: p.offset };
}

export function checkLimit(where: Where, name: string, limit: unknown): number {
  if (limit === undefined) return Number.MAX_SAFE_INTEGER;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) throw tswsError('TSWS_ERR_CHANNEL_POSITION', { ...where, name, reason: `limit ${String(limit)} is not an integer >= 1` });
  return limit;
}
