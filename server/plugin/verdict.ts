/** @module A gate's answer read the same way for both gates (the websocket filter, the HTTP filter): a refusal's status, reason and headers, an acceptance's `auth`. */
import { headerProblem } from '../base/http-header.ts';
import type { Authenticated, HeaderInput } from './api-request.ts';

export interface ReadRefusal {
  readonly status: number;
  /** The plugin's reason, when it gave one as a string. */
  readonly reason: string | undefined;
  readonly headers: [string, string][];
}

/** Any error status: version 2's gates, and every websocket filter. */
export const ERROR_STATUS = (status: number): boolean => status >= 400 && status <= 599;

/**
 * Plain-JS plugins are not type checked, so nothing is trusted: anything but
 * an allowed integer status is sent as 403, a reason that is not a string is
 * left out, headers that are neither an object nor pairs are ignored.
 */
export function readRefusal(verdict: unknown, allowed: (status: number) => boolean): ReadRefusal {
  const r = typeof verdict === 'object' && verdict !== null ? (verdict as { refuse?: unknown; reason?: unknown; headers?: unknown }) : {};
  const status = typeof r.refuse === 'number' && Number.isInteger(r.refuse) && allowed(r.refuse) ? r.refuse : 403;
  return { status, reason: typeof r.reason === 'string' ? r.reason : undefined, headers: headerPairs(r.headers) };
}

/** A header that could split the refusal's head (CR/LF in it, a name that is not a token) is left out. */
function headerPairs(h: unknown): [string, string][] {
  const pairs: [string, string][] = Array.isArray(h)
    ? h.filter((p): p is readonly [unknown, unknown] => Array.isArray(p) && p.length === 2).map(([k, v]) => [String(k), String(v)])
    : typeof h === 'object' && h !== null
      ? Object.entries(h as HeaderInput).map(([k, v]) => [k, String(v)])
      : [];
  return pairs.filter(([k, v]) => headerProblem(k, v) === undefined);
}

/** Plain-JS filters are not type checked: `auth` needs a string subject, and an expiry and claims of the right kinds, or it is ignored. */
export function readAuth(a: unknown): Authenticated | undefined {
  if (typeof a !== 'object' || a === null) return undefined;
  const { subject, expiresAt, claims } = a as { subject?: unknown; expiresAt?: unknown; claims?: unknown };
  if (typeof subject !== 'string') return undefined;
  return {
    subject,
    ...(typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? { expiresAt } : {}),
    claims: typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {},
  };
}
