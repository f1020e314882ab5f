/** @module The channel store of a cluster: offsets and history in a Redis stream per channel (the shared log's machinery), presence on the cluster's presence groups. */
import type { RedisCluster } from '../cluster/cluster.ts';
import { RedisBus } from '../bus/redis-bus.ts';
import { APPEND, Script } from '../cluster/scripts.ts';
import type { LogRead } from '../bus/log-follower.ts';
import type { ChannelHistory, ChannelMessage, ChannelPosition, PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';
import { subscribeTo } from './local-store.ts';
import { recoveryOf } from './positions.ts';
import { CHANNEL_READ } from './redis-scripts.ts';
import type { ChannelStore, StoredChannel } from './store.ts';
import { RedisPresenceSets } from './redis-presence.ts';

const appendScript = new Script(APPEND);

/**
 * Each channel is a shared log (server/cluster/scripts.ts): APPEND gives the
 * next consecutive id and publishes the entry through the bus in the same
 * atomic step, so every instance receives a channel's publications in offset
 * order, and the log's epoch changes whenever Redis lost the stream. An
 * entry's text carries its own position and time, "<id>\n<epoch>\n<ms>\n<flags>\n<payload>"
 * (bytes in base64), so the bus and its LogFollower, which hand on text, need
 * no change: what an instance's subscription missed while Redis was away is
 * read back from the stream and delivered in order before live ones.
 *
 * Age: entries older than ttl are skipped at read and trimmed then with
 * XTRIM MINID (ids are offsets, so MINID cuts by position; the entry's time
 * says where). Size: XADD MAXLEN, exact.
 */
export class RedisChannelStore implements ChannelStore {
  readonly #cluster: RedisCluster;
  readonly #now: () => number;
  readonly #followers = new Map<string, Set<(m: ChannelMessage) => void>>();
  readonly #presence: RedisPresenceSets;
  /** APPEND loaded into this Redis: publications wait for it (see #load). */
  #loaded: Promise<unknown>;

  constructor(cluster: RedisCluster, now: () => number = Date.now) {
    this.#cluster = cluster;
    this.#now = now;
    this.#presence = new RedisPresenceSets(cluster);
    this.#loaded = this.#load();
    cluster.cmd.on('ready', () => (this.#loaded = this.#load()));
  }

  /**
   * Why load first: a script Redis does not know is refused (NOSCRIPT) and
   * sent again in full, after the replies of the publications sent behind it:
   * those would take their offsets first. Loaded before the first publication
   * (and again on every reconnect, a restarted Redis knows no script), one
   * thread's publications take offsets in the order publish was called.
   */
  #load(): Promise<unknown> {
    return this.#cluster.cmd.status === 'ready' ? this.#cluster.cmd.script('LOAD', APPEND).catch(() => undefined) : Promise.resolve();
  }

  async publish(channel: StoredChannel, data: Buffer | string, isBinary: boolean): Promise<ChannelMessage> {
    const c = this.#cluster;
    const time = this.#now();
    const bytes = typeof data !== 'string';
    const payload = bytes ? data.toString('base64') : data;
    const keys = this.#keys(channel);
    await this.#loaded;
    const args = [channel.historySize, '', `\n${time}\n${(bytes ? 1 : 0) | (isBinary ? 2 : 0)}\n${payload}`, c.bus.channelOf(topicOf(channel)), RedisBus.logFlags, '1', '\n', c.config.instanceId];
    const [id, , epoch] = (await c.run('channel publish', () => appendScript.run(c.cmd, keys, args))) as [string, string, string];
    return { channel: channel.key, epoch, offset: Number(id), data, isBinary, time };
  }

  async position(channel: StoredChannel): Promise<ChannelPosition> {
    const r = await this.#read(channel, 1, 0);
    return { epoch: r.epoch, offset: r.lastId };
  }

  async read(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): Promise<ChannelHistory> {
    // Wait for our own subscription first: a publication after this read then reaches the follower (channel.ts merges).
    if (this.#followers.has(channel.key)) await this.#cluster.bus.whenSubscribed(topicOf(channel));
    const from = (since?.offset ?? 0) + 1;
    // With an age bound the expired head is read too (at most historySize entries), to know where fresh ones start.
    const count = channel.historyTtlMs > 0 ? channel.historySize : Math.min(limit, channel.historySize);
    const r = await this.#read(channel, from, count);
    const position = { epoch: r.epoch, offset: r.lastId };
    const oldest = channel.historyTtlMs > 0 ? this.#now() - channel.historyTtlMs : -Infinity;
    const all = r.entries.map((e) => parse(channel.key, e.text));
    const fresh = all.filter((m) => m.time >= oldest && m.epoch === r.epoch);
    if (fresh.length < all.length) this.#trim(channel, fresh[0]?.offset ?? r.lastId + 1);
    const recovery = since && recoveryOf(since, r.epoch, r.lastId, fresh[0]?.offset);
    if (recovery?.recovered === false && recovery.reason === 'epoch-changed') return { messages: [], position, recovery };
    return { messages: fresh.slice(0, limit), position, recovery };
  }

  follow(channel: StoredChannel, deliver: (message: ChannelMessage) => void): () => void {
    const topic = topicOf(channel);
    const bus = this.#cluster.bus;
    if (!this.#followers.has(channel.key)) {
      // What the subscription misses (Redis away a moment) is read back from the stream, in order.
      bus.followLog(topic, (after, count) => this.#read(channel, after + 1, count), channel.historySize);
      bus.subscribe(topic, (text) => {
        const followers = this.#followers.get(channel.key);
        if (!followers) return;
        const m = parse(channel.key, String(text));
        for (const f of followers) f(m);
      });
    }
    const stop = subscribeTo(this.#followers, channel.key, deliver);
    return () => {
      stop();
      if (!this.#followers.has(channel.key)) bus.unsubscribe(topic);
    };
  }

  join(channel: StoredChannel, holderLocalId: string, info: unknown): Promise<PresenceMember> {
    return this.#presence.join(channel.key, holderLocalId, info);
  }

  leave(channel: StoredChannel, holderLocalId: string): Promise<void> {
    return this.#presence.leave(channel.key, holderLocalId);
  }

  members(channel: StoredChannel): Promise<PresenceMember[]> {
    return this.#presence.members(channel.key);
  }

  onPresence(channel: StoredChannel, fn: (event: PresenceEvent) => void): () => void {
    return this.#presence.watch(channel.key, fn);
  }

  async close(): Promise<void> {
    for (const key of this.#followers.keys()) this.#cluster.bus.unsubscribe(`~ch/${key}`);
    this.#followers.clear();
    this.#presence.close();
  }

  #keys(channel: StoredChannel): [string, string] {
    const p = this.#cluster.config.prefix;
    return [`${p}chlog:${channel.key}`, `${p}chepoch:${channel.key}`];
  }

  async #read(channel: StoredChannel, from: number, count: number): Promise<LogRead> {
    const c = this.#cluster;
    const reply = (await c.run('channel read', () => CHANNEL_READ.run(c.cmd, this.#keys(channel), [from, count]))) as [string, number, ...string[]];
    const [epoch, lastId, ...texts] = reply;
    return { epoch, lastId: Number(lastId), entries: texts.map((text) => ({ id: Number(text.slice(0, text.indexOf('\n'))), text })) };
  }

  /** Entries before `firstFresh` are past the age bound: gone for every reader, so gone from Redis too. */
  #trim(channel: StoredChannel, firstFresh: number): void {
    const c = this.#cluster;
    c.run('channel trim', () => c.cmd.xtrim(this.#keys(channel)[0], 'MINID', `${firstFresh}-0`)).catch(() => undefined);
  }
}

function topicOf(channel: StoredChannel): string {
  return `~ch/${channel.key}`;
}

/** "<id>\n<epoch>\n<ms>\n<flags>\n<payload>" → a message; flags: 1 bytes (in base64), 2 binary. */
function parse(key: string, text: string): ChannelMessage {
  const a = text.indexOf('\n');
  const b = text.indexOf('\n', a + 1);
  const c = text.indexOf('\n', b + 1);
  const flags = Number(text[c + 1]);
  const payload = text.slice(c + 3);
  return { channel: key, offset: Number(text.slice(0, a)), epoch: text.slice(a + 1, b), time: Number(text.slice(b + 1, c)), isBinary: (flags & 2) !== 0, data: flags & 1 ? Buffer.from(payload, 'base64') : payload };
}
