/** @module Channel presence in a cluster: one presence group of the cluster per channel, and join/leave events made from its change notices. */
import type { RedisCluster, RawEntry } from '../cluster/cluster.ts';
import type { PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';

interface Watched {
  readonly fns: Set<(e: PresenceEvent) => void>;
  /** The members as last listed: a notice is turned into events by comparing. */
  known: Map<string, PresenceMember>;
  /** One listing at a time; a notice during one asks for another after it. */
  busy: boolean;
  again: boolean;
  /** Stops the group's change notices (and its Redis subscription) once nobody here watches the channel. */
  stop: () => void;
}

/**
 * The cluster's presence groups already give what channels promise: an
 * entry per member, owned by its instance, whose heartbeat keeps it; an
 * instance that dies (SIGKILL) stops heart-beating and its entries drop out of
 * every listing at once and are reaped, with a notice, within ttl-secs plus a
 * heartbeat period; Redis losing its data is repaired by each instance
 * claiming its entries again. Notices say only "this group changed": each
 * instance lists the group and compares, so events are as exact as listings.
 */
export class RedisPresenceSets {
  readonly #cluster: RedisCluster;
  /** Member ids of this instance that joined, by channel key: a second join replaces the info. */
  readonly #joined = new Map<string, Set<string>>();
  /** Channels watched here: one change listener each, removed with the last watcher (names come from clients: they must not pile up). */
  readonly #watched = new Map<string, Watched>();

  constructor(cluster: RedisCluster) {
    this.#cluster = cluster;
  }

  async join(key: string, localId: string, info: unknown): Promise<PresenceMember> {
    const c = this.#cluster;
    const id = `${c.config.instanceId}/${localId}`;
    const group = this.#group(key);
    const value = JSON.stringify(info ?? null);
    let mine = this.#joined.get(key);
    if (!mine) this.#joined.set(key, (mine = new Set()));
    if (mine.has(id) || !(await c.claim(group, id, value, ''))) c.put(group, id, value);
    mine.add(id);
    return { id, info: JSON.parse(value) as unknown, holder: c.config.instanceId };
  }

  async leave(key: string, localId: string): Promise<void> {
    const id = `${this.#cluster.config.instanceId}/${localId}`;
    const mine = this.#joined.get(key);
    mine?.delete(id);
    if (mine?.size === 0) this.#joined.delete(key);
    await this.#cluster.release(this.#group(key), id);
  }

  async members(key: string): Promise<PresenceMember[]> {
    return (await this.#cluster.list(this.#group(key))).map(memberOf);
  }

  watch(key: string, fn: (e: PresenceEvent) => void): () => void {
    let w = this.#watched.get(key);
    if (!w) {
      const watched: Watched = { fns: new Set(), known: new Map(), busy: false, again: false, stop: () => undefined };
      this.#watched.set(key, (w = watched));
      watched.stop = this.#cluster.onChange(this.#group(key), () => void this.#changed(key));
      // The members now, to compare the first notice with (none are told as joining).
      void this.members(key).then((list) => {
        if (watched.known.size === 0) watched.known = new Map(list.map((m) => [m.id, m]));
      }, () => undefined);
    }
    w.fns.add(fn);
    const watched = w;
    return () => {
      watched.fns.delete(fn);
      if (watched.fns.size > 0 || this.#watched.get(key) !== watched) return;
      this.#watched.delete(key);
      watched.stop();
    };
  }

  close(): void {
    for (const w of this.#watched.values()) w.stop();
    this.#watched.clear();
  }

  #group(key: string): string {
    // "~ch/": apart from the groups plugins name through vhost.cluster.presence.
    return this.#cluster.groupKey(`~ch/${key}`);
  }

  async #changed(key: string): Promise<void> {
    const w = this.#watched.get(key);
    if (!w) return;
    if (w.busy) {
      w.again = true;
      return;
    }
    w.busy = true;
    try {
      do {
        w.again = false;
        let list: PresenceMember[];
        try {
          list = await this.members(key);
        } catch {
          return;
        }
        const now = new Map(list.map((m) => [m.id, m]));
        const events: PresenceEvent[] = [];
        for (const [id, m] of w.known) if (!now.has(id)) events.push({ type: 'leave', member: m });
        for (const [id, m] of now) {
          const was = w.known.get(id);
          if (!was || JSON.stringify(was.info) !== JSON.stringify(m.info)) events.push({ type: 'join', member: m });
        }
        w.known = now;
        for (const e of events) for (const fn of w.fns) fn(e);
      } while (w.again);
    } finally {
      w.busy = false;
    }
  }
}

function memberOf(e: RawEntry): PresenceMember {
  let info: unknown;
  try {
    info = JSON.parse(e.value);
  } catch {
    info = e.value;
  }
  return { id: e.key, info, holder: e.instance };
}
