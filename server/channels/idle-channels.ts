/** @module Which idle channels a store keeps: least recently used first out, past a bound per scope (a vhost's protocol). */

/** Idle channels with history kept per vhost and protocol unless `channel-idle-max` says otherwise. */
export const DEFAULT_IDLE_MAX = 10_000;

/**
 * A Map keeps insertion order, so deleting and setting again moves a key to
 * the newest end, and the first key is the least recently used. One per
 * scope, so one vhost's clients filling their own cannot evict another's.
 */
export class IdleChannels<T> {
  /** Set again by a reload (channel-idle-max); a lower bound frees the surplus at each scope's next touch. */
  max: number;
  readonly #scopes = new Map<string, Map<string, T>>();

  constructor(max: number) {
    this.max = max;
  }

  /** `key` was used and is idle: newest now. Returns what falls out past the bound (to be freed). */
  touch(scope: string, key: string, value: T): T[] {
    let lru = this.#scopes.get(scope);
    if (!lru) this.#scopes.set(scope, (lru = new Map()));
    lru.delete(key);
    lru.set(key, value);
    const out: T[] = [];
    for (const [oldest, v] of lru) {
      if (lru.size <= this.max) break;
      lru.delete(oldest);
      out.push(v);
    }
    return out;
  }

  /** `key` is in use again (a follower, a member), or freed: not idle. */
  remove(scope: string, key: string): void {
    const lru = this.#scopes.get(scope);
    if (lru?.delete(key) && lru.size === 0) this.#scopes.delete(scope);
  }
}
