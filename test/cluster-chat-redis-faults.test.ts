/// <reference lib="dom" />
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { joinPage, say as sayOnPage, waitForEvent, waitForMessage } from './helpers/chat-page.ts';
import { ChatClient } from './helpers/chat.ts';
import { startInstance, stopInstance } from './helpers/cluster.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { consoleChat, killConsoleChats, type ConsoleChat } from './helpers/console-chat.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll } from './helpers/process.ts';
import { sample } from './helpers/prom.ts';
import { killAllRedis, startRedis, subscribers, until, type RedisServer } from './helpers/redis.ts';

// Redis here keeps nothing on disk (no RDB, no AOF): a restart comes back with no keys at all, so
// every room's message ids start again at 1. Before the epoch, clients took the new ids for ones
// they had already seen and skipped them without a word.

afterAll(() => {
  killConsoleChats();
  killAll();
  killAllRedis();
  removeConfigDirs();
});

const RESTARTED = /! the server's message sequence restarted/;
// A room is a channel: its bus topic and its stream are the channel's (docs/reference/channels.md).
const roomChannel = (room: string) => `tsws:bus:~ch/localhost/chat/room:${room}`;

async function probeOf(redis: RedisServer): Promise<Redis> {
  const probe = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => undefined);
  await probe.connect();
  return probe;
}

/** `who` says `line`; every client in `all` prints it before the next one is said, so everyone's order is the same. */
async function say(who: ConsoleChat, name: string, line: string, all: readonly ConsoleChat[]): Promise<void> {
  who.say(line);
  await Promise.all(all.map((c) => c.waitFor(new RegExp(`<${name}> ${line}$`))));
}

describe('chat on instances sharing a Redis that restarts empty', () => {
  it('shows every member each later message and says the sequence restarted; names stay unique; a client that reconnects gets what came after', async () => {
    const redis = await startRedis();
    const probe = await probeOf(redis);
    const cPort = await freePort();
    const [a, b, c] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b'), startInstance(redis.url, 'c', { port: cPort })]);
    const ann = consoleChat(a.wsUrl(), 'ann', 'r');
    const bob = consoleChat(b.wsUrl(), 'bob', 'r');
    const cat = consoleChat(c.wsUrl(), 'cat', 'r');
    await Promise.all([ann, bob, cat].map((cl) => cl.waitFor(/\* joined r as /)));
    await until(async () => (await subscribers(probe, roomChannel('r'))) === 3, 'three instances subscribed to the room');
    await say(ann, 'ann', 'one', [ann, bob, cat]);
    await say(bob, 'bob', 'two', [ann, bob, cat]);
    await say(cat, 'cat', 'three', [ann, bob, cat]);

    // c stops (cat keeps trying to reconnect), then Redis loses everything.
    await stopInstance(c);
    await cat.waitFor(/! connection lost/);
    const beforeLoss = bob.lines.length;
    await redis.kill();
    await Promise.all([a, b].map((i) => i.event('cluster-redis-lost')));
    // While Redis is away a send is refused out loud: neither kept for later nor dropped in silence.
    bob.say('while away');
    await bob.waitFor(/! .*\(unavailable\)$/, beforeLoss);
    const beforeRestart = [a, b].map((i) => i.proc.lines.length);
    await redis.restart();
    await Promise.all([a, b].map((i, k) => i.event('cluster-redis-restored', beforeRestart[k])));
    // Not waiting for the subscriptions: what is said before an instance subscribes again reaches
    // its members all the same, read back from the room's log.

    // Names stay unique across the restart, on either instance. Straight after it, before a may
    // have written "ann" back, a join of "ANN" on b is held (or refused as unavailable), never welcomed.
    const early = await ChatClient.open(b.wsUrl());
    early.request({ type: 'join', room: 'r', name: 'ANN' });
    expect(['name-taken', 'unavailable']).toContain((await early.expect('error')).code);
    await early.close();
    // Once both instances have restored their entries, it is name-taken.
    await Promise.all([a, b].map((i, k) => i.event('cluster-entries-restored', beforeRestart[k])));
    const twin = await ChatClient.open(b.wsUrl());
    twin.request({ type: 'join', room: 'r', name: 'ANN' });
    expect(await twin.expect('error')).toMatchObject({ code: 'name-taken' });
    await twin.close();

    const marks = [ann.lines.length, bob.lines.length];
    await say(ann, 'ann', 'four', [ann, bob]);
    await say(bob, 'bob', 'five', [ann, bob]);
    await say(ann, 'ann', 'six', [ann, bob]);
    // Every member connected throughout got every message, and was told the ids started again.
    for (const [k, cl] of [ann, bob].entries()) await cl.waitFor(RESTARTED, marks[k]);
    const all = ['ann: one', 'bob: two', 'cat: three', 'ann: four', 'bob: five', 'ann: six'];
    expect(ann.messages()).toEqual(all);
    expect(bob.messages()).toEqual(all);

    // c comes back on its port: cat reconnects holding the old sequence's last id, and is shown what came after.
    const catMark = cat.lines.length;
    const c2 = await startInstance(redis.url, 'c', { port: cPort });
    // cat has been retrying since c stopped, its backoff at the cap (a try every 5 to 10 s),
    // and joins through a process on a loaded machine: a liveness bound past waitFor's 20 s default.
    await cat.waitFor(/\* rejoined r as cat/, catMark, 45_000);
    await cat.waitFor(RESTARTED, catMark);
    // The notice comes before the new sequence's messages, and when the welcome beats the resubscribe's
    // answer they are printed after it: lines written one by one may reach this pipe in separate reads.
    await cat.waitFor(/<ann> six$/, catMark);
    expect(cat.messages()).toEqual(all);

    probe.disconnect();
    await Promise.all([a, b, c2].map(stopInstance));
    await redis.stop();
    // Five tsws processes and three console clients start on two shared cores.
  }, 120_000);
});

describe("an instance whose subscription to Redis is cut while another instance's members talk", () => {
  it('delivers what its members missed, from the room\'s log, once subscribed again: in order, each once, nothing said missing', async () => {
    const redis = await startRedis();
    const probe = await probeOf(redis);
    const [a, b] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b', { metrics: true })]);
    const { client: ann } = await ChatClient.joined(a.wsUrl(), 'ann', 'cut');
    const { client: bob } = await ChatClient.joined(b.wsUrl(), 'bob', 'cut');
    const cat = consoleChat(b.wsUrl(), 'cat', 'cut');
    await cat.waitFor(/\* joined cut as cat/);
    await until(async () => (await subscribers(probe, roomChannel('cut'))) === 2, 'both instances subscribed');
    ann.send('before');
    await cat.waitFor(/<ann> before$/);

    // b's subscriber connection is cut, and Redis takes no new connection until told: b cannot
    // subscribe again while ann talks (nothing left to timing). Its command connection stays.
    const list = String(await probe.call('CLIENT', 'LIST')).trim().split('\n');
    const sub = list.find((l) => / name=tsws:b:sub /.test(l));
    await probe.config('SET', 'maxclients', String(list.length - 1));
    await probe.call('CLIENT', 'KILL', 'ID', /^id=(\d+)/.exec(sub ?? '')?.[1] ?? 'none');
    await until(async () => (await subscribers(probe, roomChannel('cut'))) === 1, "b's subscription gone");
    for (const t of ['missed 1', 'missed 2', 'missed 3']) ann.send(t);
    await until(async () => (await probe.xlen('tsws:chlog:localhost/chat/room:cut')) === 4, 'the three stored');
    await probe.config('SET', 'maxclients', '10000');

    const seen: { id: number; text: string }[] = [];
    const upTo = async (text: string) => {
      while (seen.at(-1)?.text !== text) {
        const m = await bob.until('message');
        seen.push({ id: m.offset, text: m.text });
      }
    };
    await upTo('missed 3');
    // Said once the log has been read back: it comes live (a copy the read also had would be dropped as seen).
    ann.send('after');
    await upTo('after');
    expect(seen.map((m) => m.text)).toEqual(['before', 'missed 1', 'missed 2', 'missed 3', 'after']);
    expect(seen.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    await cat.waitFor(/<ann> after$/);
    expect(cat.messages()).toEqual(['ann: before', 'ann: missed 1', 'ann: missed 2', 'ann: missed 3', 'ann: after']);
    expect(cat.lines.filter((l) => l.includes('did not arrive'))).toEqual([]);
    const metrics = await fetch(b.url('/metrics')).then((r) => r.text());
    expect(sample(metrics, 'tsws_cluster_log_recovered_total')).toBe(3);
    expect(sample(metrics, 'tsws_cluster_log_unrecovered_total')).toBe(0);

    await Promise.all([ann.close(), bob.close()]);
    probe.disconnect();
    await Promise.all([a, b].map(stopInstance));
    await redis.stop();
  });
});

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('the chat page across a Redis restart', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('shows a notice that the sequence restarted, and the messages after it', async () => {
    const redis = await startRedis();
    const probe = await probeOf(redis);
    const [a, b] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b')]);
    browser = await launchChromium();
    const page = await joinPage(browser, a.url(), 'wen', 'web');
    const { client: rex } = await ChatClient.joined(b.wsUrl(), 'rex', 'web');
    await until(async () => (await subscribers(probe, roomChannel('web'))) === 2, 'both instances subscribed');
    for (const t of ['first', 'second']) {
      rex.send(t);
      await waitForMessage(page, 'rex', t);
    }

    const from = [a, b].map((i) => i.proc.lines.length);
    await redis.kill();
    await Promise.all([a, b].map((i, k) => i.event('cluster-redis-lost', from[k])));
    // Refused out loud while Redis is away, and the text is back in the box to send again.
    await sayOnPage(page, 'typed while away');
    await page.waitForFunction(() => document.getElementById('error')?.textContent?.includes('the message was not sent'));
    expect(await page.$eval('#text', (el) => (el as HTMLInputElement).value)).toBe('typed while away');
    await redis.restart();
    await Promise.all([a, b].map((i, k) => i.event('cluster-redis-restored', from[k])));
    rex.send('after the restart');
    await waitForMessage(page, 'rex', 'after the restart');
    await waitForEvent(page, "the server's message sequence restarted");
    // The notice comes before the first message of the new sequence.
    const log = await page.$$eval('#log li', (lis) => lis.map((li) => li.textContent ?? ''));
    const notice = log.findIndex((l) => l.includes('sequence restarted'));
    expect(notice).toBeGreaterThan(log.findIndex((l) => l.includes('second')));
    expect(notice).toBeLessThan(log.findIndex((l) => l.includes('after the restart')));
    expect(log.some((l) => l.includes('typed while away'))).toBe(false);

    await rex.close();
    await page.close();
    probe.disconnect();
    await Promise.all([a, b].map(stopInstance));
    await redis.stop();
  }, 120_000);
});
