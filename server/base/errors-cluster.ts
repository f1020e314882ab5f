/** @module Registry entries for several instances sharing state through Redis, spread into errors.ts's REGISTRY. */
import { error, warning } from './error-entry.ts';

export const CLUSTER_ERRORS = {
  TSWS_ERR_CLUSTER_UNREACHABLE: error<{ url: string; attempt: number; reason: string; retryMs: number }>(
    (p) => `cluster: cannot reach Redis at ${p.url} (attempt ${p.attempt}: ${p.reason}); not listening yet, retrying in ${p.retryMs} ms`,
    'Start Redis or fix "cluster"."redis" in conf; set "unreachable-at-start": "local" to serve alone meanwhile.'),
  TSWS_WARN_CLUSTER_LOCAL_ONLY: warning<{ url: string; reason: string }>(
    (p) => `cluster: Redis at ${p.url} is unreachable (${p.reason}); serving alone as configured ("unreachable-at-start": "local"): nothing is shared with other instances until this one restarts`,
    'Start Redis, then restart this instance to join the cluster.'),
  TSWS_WARN_CLUSTER_REDIS_LOST: warning<{ url: string; reason: string }>(
    (p) => `cluster: lost Redis at ${p.url} (${p.reason}); local delivery continues, publications wait for it (up to "max-queue"), reconnecting`,
    'Check Redis; subscriptions and this instance\'s shared entries are restored when it answers again.'),
  TSWS_WARN_CLUSTER_DROPPING: warning<{ queued: number }>(
    (p) => `cluster: Redis does not take publications as fast as they come; ${p.queued} wait, newer ones are dropped (counted) until the queue drains`,
    'Raise "max-queue", give Redis more room, or publish less; local subscribers are not affected.'),
  TSWS_ERR_CLUSTER_UNAVAILABLE: error<{ op: string }>(
    (p) => `cluster: shared state is unavailable while Redis is not connected (${p.op})`,
    'Retry once Redis is back; the log says when it is.'),
  TSWS_WARN_CLUSTER_CLAIM_LOST: warning<{ group: string; key: string }>(
    (p) => `cluster: after Redis came back, "${p.key}" in ${p.group} was held by another instance; this instance no longer holds it`,
    'Redis lost data while it was away (no persistence?); see docs/guides/operating.md, "Running several instances".'),
} as const;
