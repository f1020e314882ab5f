/** @module What a received message must pass before `receive` besides its size: the protocol's own rate, the vhost's per-address and per-user rates. */
import { tswsError, type TswsError } from '../base/errors.ts';
import { TokenBucket } from '../base/token-bucket.ts';
import type { ProtocolHost } from './protocol-host.ts';
import type { HeldLimits } from './shared-limits.ts';

/** The connection as the limits see it (not the Connection: that one owns this). */
interface Limited {
  readonly vhost: ProtocolHost;
  readonly protocol: string;
  readonly request: { readonly peer: string };
  readonly auth: { readonly subject: string } | undefined;
}

/**
 * One per connection. The protocol's bucket is made at the first message
 * (an idle connection keeps none); the vhost's shared buckets are held from
 * the upgrade until the connection is gone. Each refusal is counted and
 * coded; the connection closes with its closeCode (1008).
 */
export class ReceiveLimits {
  #bucket: TokenBucket | undefined;
  #held: HeldLimits | undefined;

  hold(held: HeldLimits | undefined): void {
    this.#held = held;
  }

  release(): void {
    this.#held?.release();
    this.#held = undefined;
  }

  /** undefined: the message goes on to `receive`; else why the connection must close, and the close reason. */
  check(conn: Limited): { readonly e: TswsError; readonly reason: string } | undefined {
    const host = conn.vhost;
    const rate = host.def.rateLimit;
    if (rate && !(this.#bucket ??= new TokenBucket(rate.burst, rate.perMs * 1000, host.clock.now)).take()) {
      host.counters.rateLimitedConnection++;
      return { e: tswsError('TSWS_ERR_RATE_LIMITED', { protocol: conn.protocol, peer: conn.request.peer }), reason: 'rate limit' };
    }
    const over = this.#held?.take();
    if (over === undefined) return undefined;
    const vhost = host.vhostName;
    if (over === 'address') {
      host.counters.rateLimitedAddress++;
      return { e: tswsError('TSWS_ERR_RATE_LIMITED_ADDRESS', { vhost, peer: conn.request.peer }), reason: 'rate limit' };
    }
    host.counters.rateLimitedUser++;
    return { e: tswsError('TSWS_ERR_RATE_LIMITED_USER', { vhost, subject: conn.auth?.subject ?? '' }), reason: 'rate limit' };
  }
}
