/** @module Local fan-out of bus topics to subscribed connections. */
import type { Published } from '../plugin/api.ts';
import type { Bus } from './bus.ts';

/** What a subscriber must accept: a published message for its inbox. */
export interface TopicSubscriber {
  deliverPublished(msg: Published): void;
}

/**
 * Topics are namespaced per vhost and protocol ("vhost/protocol/topic") so
 * that two vhosts enabling the same protocol never see each other's traffic.
 * The bus sees one subscription per topic per process; this class keeps the
 * connections behind it.
 */
export class TopicRouter {
  readonly #bus: Bus;
  readonly #subscribers = new Map<string, Set<TopicSubscriber>>();

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  static key(vhost: string, protocol: string, topic: string): string {
    return `${vhost}/${protocol}/${topic}`;
  }

  subscribe(key: string, topic: string, sub: TopicSubscriber): void {
    let set = this.#subscribers.get(key);
    if (!set) {
      set = new Set();
      this.#subscribers.set(key, set);
      const members = set;
      this.#bus.subscribe(key, (data, isBinary) => {
        // One shared, immutable message per publication, however many members.
        const msg: Published = { topic, data, isBinary };
        for (const m of members) m.deliverPublished(msg);
      });
    }
    set.add(sub);
  }

  unsubscribe(key: string, sub: TopicSubscriber): void {
    const set = this.#subscribers.get(key);
    if (!set?.delete(sub) || set.size > 0) return;
    this.#subscribers.delete(key);
    this.#bus.unsubscribe(key);
  }

  publish(key: string, data: Buffer | string, isBinary: boolean): void {
    this.#bus.publish(key, data, isBinary);
  }
}
