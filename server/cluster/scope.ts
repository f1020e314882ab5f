/** @module The shared-state view one protocol on one vhost gets (vhost.cluster): presence groups and shared logs, namespaced. */
import type { ClusterView, Presence, PresenceEntry, PresenceOptions, SharedLog, SharedLogEntry, SharedLogOptions } from '../plugin/api.ts';
import { RedisBus } from '../bus/redis-bus.ts';
import { APPEND, BOUNDS, READ, Script } from './scripts.ts';
import type { RedisCluster } from './cluster.ts';

const appendScript = new Script(APPEND);
const boundsScript = new Script(BOUNDS);
const readScript = new Script(READ);

class RedisPresence implements Presence {
  readonly #cluster: RedisCluster;
  readonly #group: string;
  readonly #linger: string;

  constructor(cluster: RedisCluster, group: string, linger: string) {
    this.#cluster = cluster;
    this.#group = group;
    this.#linger = linger;
  }

  claim(key: string, value: string): Promise<boolean> {
    return this.#cluster.claim(this.#group, key, value, this.#linger);
  }

  put(key: string, value: string): void {
    this.#cluster.put(this.#group, key, value);
  }

  release(key: string): Promise<void> {
    return this.#cluster.release(this.#group, key);
  }

  async list(): Promise<PresenceEntry[]> {
    return (await this.#cluster.list(this.#group)).map(({ key, value, instance }) => ({ key, value, instance }));
  }

  onChange(fn: () => void): void {
    this.#cluster.onChange(this.#group, fn);
  }
}

class RedisSharedLog implements SharedLog {
  readonly key: string;
  /** Beside the stream: the epoch its ids count in (see EPOCH in scripts.ts). */
  readonly epochKey: string;
  readonly #cluster: RedisCluster;
  readonly #maxLength: number;
  readonly #channel: string;

  constructor(cluster: RedisCluster, scoped: string, opts: SharedLogOptions, topicKey: string | undefined) {
    this.#cluster = cluster;
    this.key = `${cluster.config.prefix}log:${scoped}`;
    this.epochKey = `${cluster.config.prefix}logepoch:${scoped}`;
    this.#maxLength = opts.maxLength;
    this.#channel = topicKey === undefined ? '' : cluster.bus.channelOf(topicKey);
    // What this instance's subscription to the topic misses (Redis away a moment) is read back from here.
    if (topicKey !== undefined) cluster.bus.followLog(topicKey, (after, count) => this.#read(after, count), opts.maxLength);
  }

  async append(before: string, after: string, between?: string): Promise<SharedLogEntry> {
    const args = [this.#maxLength, before, after, this.#channel, RedisBus.logFlags, between === undefined ? '' : '1', between ?? '', this.#cluster.config.instanceId];
    const reply = await this.#cluster.run('log append', () => appendScript.run(this.#cluster.cmd, [this.key, this.epochKey], args));
    const [id, text, epoch] = reply as [string, string, string];
    return { id: Number(id), epoch, text };
  }

  async after(after: number, limit: number): Promise<SharedLogEntry[]> {
    const { epoch, entries } = await this.#read(after, limit);
    return entries.map((e) => ({ ...e, epoch }));
  }

  async bounds(): Promise<{ firstId: number; lastId: number; epoch: string }> {
    const reply = await this.#cluster.run('log bounds', () => boundsScript.run(this.#cluster.cmd, [this.key, this.epochKey], []));
    const [first, last, epoch] = reply as [number, number, string];
    return { firstId: first === 0 ? last + 1 : first, lastId: last, epoch };
  }

  async #read(after: number, limit: number): Promise<{ epoch: string; lastId: number; entries: { id: number; text: string }[] }> {
    const reply = await this.#cluster.run('log read', () => readScript.run(this.#cluster.cmd, [this.key, this.epochKey], [after + 1, limit]));
    const [epoch, lastId, ...flat] = reply as [string, number, ...(number | string)[]];
    const entries: { id: number; text: string }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: Number(flat[i]), text: String(flat[i + 1]) });
    return { epoch, lastId: Number(lastId), entries };
  }
}

/** Names are scoped as topics are: "<vhost>/<protocol>/<name>", so vhosts never share state by accident. */
export class ClusterScope implements ClusterView {
  readonly instanceId: string;
  readonly #cluster: RedisCluster;
  readonly #scope: string;
  readonly #topicKey: (topic: string) => string;

  constructor(cluster: RedisCluster, vhost: string, protocol: string, topicKey: (topic: string) => string) {
    this.#cluster = cluster;
    this.instanceId = cluster.config.instanceId;
    this.#scope = `${vhost}/${protocol}/`;
    this.#topicKey = topicKey;
  }

  presence(name: string, opts: PresenceOptions = {}): Presence {
    // A lingering log's epoch goes with it: an append after the stream expired starts a new epoch anyway.
    const linger = opts.linger ? [String(opts.linger.ms), ...opts.linger.logs.flatMap((l) => keysOf(l))].join('\n') : '';
    return new RedisPresence(this.#cluster, this.#cluster.groupKey(this.#scope + name), linger);
  }

  log(name: string, opts: SharedLogOptions): SharedLog {
    const topic = opts.publishTo === undefined ? undefined : this.#topicKey(opts.publishTo);
    return new RedisSharedLog(this.#cluster, this.#scope + name, opts, topic);
  }
}

function keysOf(log: SharedLog): string[] {
  if (log instanceof RedisSharedLog) return [log.key, log.epochKey];
  throw new Error('cluster: presence linger takes logs made by vhost.cluster.log()');
}
