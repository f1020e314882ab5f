/** @module The Bus over Redis pub/sub: local delivery at once, other instances through Redis, bounded buffering towards it. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { describeError, tswsError } from '../base/errors.ts';
import type { ClusterStats } from '../metrics/cluster-stats.ts';
import type { Bus, Deliver } from './bus.ts';
import { LogFollower, type LogReader } from './log-follower.ts';

const FLAG_BINARY = 1;
/** Set on publications made inside a Redis script (shared logs): the sender delivers them too, on arrival, to keep one order. */
const FLAG_ECHO = 2;
/**
 * A shared log's publication (made by its append script, always with FLAG_ECHO):
 * the id segment is "<instance>\n<epoch>:<id>", its position (see LogFollower).
 * Inside the id segment, so an older instance that knows no FLAG_LOG still
 * reads the payload right (it only takes the publication for another's).
 */
const FLAG_LOG = 4;
/** Publications Redis holds at once; the rest wait in our queue, so memory is bounded whatever Redis's speed. */
const MAX_IN_FLIGHT = 1024;
/** Bytes waiting for Redis at most, whatever "max-queue" says. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Channels per SUBSCRIBE command when restoring subscriptions. */
const SUBSCRIBE_BATCH = 1000;

export interface RedisBusOptions {
  readonly cmd: Redis;
  readonly sub: Redis;
  readonly prefix: string;
  readonly instanceId: string;
  readonly maxQueue: number;
  readonly stats: ClusterStats;
  readonly log: Logger;
}

interface Outgoing {
  readonly channel: string;
  readonly payload: Buffer;
}

/**
 * Delivery contract (the Bus's): each publication reaches every subscriber of
 * its topic once, in its publisher's order.
 *
 * - Local subscribers get a publication at once, from `publish`, whether or
 *   not Redis is there; other instances get it through the channel
 *   `<prefix>bus:<topic>`. Each message carries its sender's instance id, and
 *   a sender skips its own copy coming back (no double delivery).
 * - Publications wait in one FIFO queue for Redis, at most MAX_IN_FLIGHT of
 *   them handed to the connection at once. Past `maxQueue` messages (or 64
 *   MiB) new ones are dropped for the other instances and counted: a
 *   publisher faster than Redis never grows memory without bound, and local
 *   delivery never waits for Redis.
 * - While Redis is away, publications queue (same bound) and go out, in
 *   order, once it is back. Those Redis had in hand when the connection
 *   dropped are counted as lost, never sent twice: a resend could duplicate.
 * - Subscriptions are ours, not the client library's: on every (re)connect
 *   the subscriber connection subscribes again to every topic with a local
 *   subscriber.
 * - A shared log's publications are the exception to "at most once": they
 *   are in the log, so what the subscription missed is read back from it
 *   once the subscription is in place again (LogFollower), in id order.
 */
export class RedisBus implements Bus {
  readonly #o: RedisBusOptions;
  readonly #topics = new Map<string, Deliver>();
  /** Topics a shared log publishes to: how to read the log back. */
  readonly #logs = new Map<string, { readonly read: LogReader; readonly keep: number }>();
  /** Per subscribed log topic: what this instance delivered of it. */
  readonly #followers = new Map<string, LogFollower>();
  /** SUBSCRIBE commands sent and not yet confirmed, by topic. */
  readonly #subscribing = new Map<string, Promise<void>>();
  readonly #channelPrefix: string;
  readonly #header: { text: Buffer; binary: Buffer };
  #queue: Outgoing[] = [];
  #head = 0;
  #queuedBytes = 0;
  #inFlight = 0;
  #dropping = false;
  #closed = false;

  constructor(o: RedisBusOptions) {
    this.#o = o;
    this.#channelPrefix = `${o.prefix}bus:`;
    this.#header = { text: RedisBus.header(o.instanceId, false, false), binary: RedisBus.header(o.instanceId, true, false) };
    o.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
    o.sub.on('ready', () => void this.#resubscribe());
    o.cmd.on('ready', () => this.#pump());
  }

  /** The bytes before a payload: flags, id length, id. Scripts publishing for the bus prepend the same. */
  static header(instanceId: string, isBinary: boolean, echo: boolean): Buffer {
    const id = Buffer.from(instanceId);
    return Buffer.concat([Buffer.from([(isBinary ? FLAG_BINARY : 0) | (echo ? FLAG_ECHO : 0), id.length]), id]);
  }

  /** The flags byte of a shared log's publication; its script adds the id segment with the position. */
  static readonly logFlags = Buffer.from([FLAG_ECHO | FLAG_LOG]);

  /**
   * `topic` is fed by a shared log (text publications made by its append
   * script): what this instance's subscription misses is read back with
   * `read`, which returns at most `keep` entries at a time.
   */
  followLog(topic: string, read: LogReader, keep: number): void {
    this.#logs.set(topic, { read, keep });
  }

  channelOf(topic: string): string {
    return this.#channelPrefix + topic;
  }

  publish(topic: string, data: Buffer | string, isBinary: boolean): void {
    this.#topics.get(topic)?.(data, isBinary);
    if (this.#closed) return;
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const s = this.#o.stats;
    if (s.queued >= this.#o.maxQueue || this.#queuedBytes + body.length > MAX_QUEUED_BYTES) {
      s.droppedQueueFull++;
      if (!this.#dropping) {
        this.#dropping = true;
        const e = tswsError('TSWS_WARN_CLUSTER_DROPPING', { queued: s.queued });
        this.#o.log.warn({ event: 'cluster-dropping', code: e.code, queued: s.queued }, e.message);
      }
      return;
    }
    this.#queue.push({ channel: this.channelOf(topic), payload: Buffer.concat([isBinary ? this.#header.binary : this.#header.text, body]) });
    this.#queuedBytes += body.length;
    s.queued++;
    this.#pump();
  }

  subscribe(topic: string, deliver: Deliver): void {
    const isNew = !this.#topics.has(topic);
    this.#topics.set(topic, deliver);
    if (isNew && this.#o.sub.status === 'ready') {
      const done = this.#o.sub.subscribe(this.channelOf(topic)).then(
        () => undefined,
        (err: unknown) => this.#subscribeFailed(err),
      );
      this.#subscribing.set(topic, done);
      void done.then(() => {
        if (this.#subscribing.get(topic) === done) this.#subscribing.delete(topic);
      });
    }
  }

  /**
   * Resolves once Redis confirmed the subscription to `topic` (at once when
   * none is on its way): every publication after that reaches this instance.
   * A channel reads its history only then, so that nothing published between
   * the read and the subscription is lost (server/channels/redis-store.ts).
   */
  whenSubscribed(topic: string): Promise<void> {
    return this.#subscribing.get(topic) ?? Promise.resolve();
  }

  unsubscribe(topic: string): void {
    if (!this.#topics.delete(topic)) return;
    // Followed again from its next publication; the log is registered again by whoever opens it.
    this.#followers.delete(topic);
    this.#logs.delete(topic);
    if (this.#o.sub.status === 'ready') this.#o.sub.unsubscribe(this.channelOf(topic)).catch(() => undefined);
  }

  /** Stops taking publications; those queued get a short chance to leave. The connections belong to the cluster. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#topics.clear();
    this.#followers.clear();
    const deadline = Date.now() + 1000;
    while ((this.#inFlight > 0 || this.#head < this.#queue.length) && this.#o.cmd.status === 'ready' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  #pump(): void {
    const { cmd, stats } = this.#o;
    while (this.#inFlight < MAX_IN_FLIGHT && this.#head < this.#queue.length && cmd.status === 'ready') {
      const out = this.#queue[this.#head++] as Outgoing;
      this.#queuedBytes -= out.payload.length;
      stats.queued--;
      this.#inFlight++;
      cmd.publish(out.channel, out.payload).then(
        () => {
          stats.published++;
          this.#sent();
        },
        () => {
          stats.lostInFlight++;
          this.#sent();
        },
      );
    }
    if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #sent(): void {
    this.#inFlight--;
    this.#pump();
    if (this.#dropping && this.#o.stats.queued === 0) {
      this.#dropping = false;
      this.#o.log.info({ event: 'cluster-dropping-ended', dropped: this.#o.stats.droppedQueueFull }, 'cluster: Redis caught up; publications flow again');
    }
  }

  #onMessage(channel: Buffer, message: Buffer): void {
    const topic = channel.toString('utf8', this.#channelPrefix.length);
    const deliver = this.#topics.get(topic);
    if (!deliver || message.length < 2) return;
    const flags = message[0] as number;
    const idEnd = 2 + (message[1] as number);
    const segment = message.toString('latin1', 2, idEnd);
    const nl = flags & FLAG_LOG ? segment.indexOf('\n') : -1;
    const own = (nl < 0 ? segment : segment.slice(0, nl)) === this.#o.instanceId;
    if (own && !(flags & FLAG_ECHO)) {
      this.#o.stats.echoesSkipped++;
      return;
    }
    if (!own) this.#o.stats.received++;
    if (nl >= 0) return this.#onLogMessage(topic, segment.slice(nl + 1), message.toString('utf8', idEnd), deliver);
    const isBinary = (flags & FLAG_BINARY) !== 0;
    // One copy per publication per instance, shared by every local subscriber; text is handed on as text.
    const body = message.subarray(idEnd);
    deliver(isBinary ? Buffer.from(body) : body.toString('utf8'), isBinary);
  }

  #onLogMessage(topic: string, pos: string, body: string, deliver: Deliver): void {
    const colon = pos.lastIndexOf(':');
    const follower = this.#follower(topic);
    if (!follower) return deliver(body, false);
    follower.arrived(pos.slice(0, colon), Number(pos.slice(colon + 1)), body);
  }

  #follower(topic: string): LogFollower | undefined {
    let f = this.#followers.get(topic);
    const log = this.#logs.get(topic);
    if (!f && log) {
      const follower = new LogFollower(log.read, log.keep, (text) => {
        // A catch-up still reading when the topic was left (and perhaps joined again) delivers nothing.
        if (this.#followers.get(topic) === follower) this.#topics.get(topic)?.(text, false);
      }, this.#o.stats);
      this.#followers.set(topic, (f = follower));
    }
    return f;
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#topics.keys()].map((t) => this.channelOf(t));
    if (channels.length === 0) return;
    this.#o.stats.resubscribes++;
    try {
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) await this.#o.sub.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH));
      this.#o.log.info({ event: 'cluster-resubscribed', topics: channels.length }, `cluster: subscribed again to ${channels.length} topic(s)`);
      // Publications made while the subscriptions were away: the logs that had them give them now.
      for (const [topic, f] of this.#followers) if (this.#topics.has(topic)) f.subscribed();
    } catch (err) {
      this.#subscribeFailed(err);
    }
  }

  #subscribeFailed(err: unknown): void {
    // The connection dropped meanwhile: its next "ready" subscribes to everything again.
    this.#o.log.debug({ err: describeError(err) }, 'cluster: subscribe failed');
  }
}
