/**
 * @module Three console chats on two instances sharing a Redis: Redis restarts empty and one instance is
 * SIGKILLed mid-conversation, one client is cut off for 30 s; every client ends with every message
 * stored, and says the one gap it could not fill (the Redis restart's new epoch) out loud.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startInstance, stopInstance } from './helpers/cluster.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { consoleChat, killConsoleChats, type ConsoleChat } from './helpers/console-chat.ts';
import { killAll } from './helpers/process.ts';
import { killAllRedis, startRedis } from './helpers/redis.ts';
import { switchRelay, type SwitchRelay } from './helpers/switch-relay.ts';

afterAll(() => {
  killConsoleChats();
  killAll();
  killAllRedis();
  removeConfigDirs();
});

/**
 * How long the one client is cut off. Resume does not depend on it (the
 * room keeps 50 messages for an hour), so a developer may shorten it with
 * TSWS_TEST_CUT_MS; the done-when of [7/8] says 30 s, the default.
 */
const CUT_MS = Number(process.env.TSWS_TEST_CUT_MS ?? 30_000);

const RESTARTED = /! the server's message sequence restarted/;
const MISSED = /did not arrive/;

/** `who` says `line`; every client in `all` prints it before the next one is said, so everyone's order is the same. */
async function say(who: ConsoleChat, name: string, line: string, all: readonly ConsoleChat[]): Promise<void> {
  who.say(line);
  await Promise.all(all.map((c) => c.waitFor(new RegExp(`<${name}> ${line}$`), 0, 40_000)));
}

describe('chat through a Redis restart, a killed instance and a 30 s cut', () => {
  it('leaves every client with every stored message, and a notice where the sequence restarted', async () => {
    const redis = await startRedis();
    const [a, b] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b')]);
    // Each client reaches its instance through a relay: re-pointed when its instance dies, cut to cut a client off.
    const relays: SwitchRelay[] = await Promise.all([switchRelay(a.port), switchRelay(b.port), switchRelay(a.port)]);
    const [toAnn, toBob, toCat] = relays as [SwitchRelay, SwitchRelay, SwitchRelay];
    const ann = consoleChat(`ws://127.0.0.1:${toAnn.port}`, 'ann', 'r');
    const bob = consoleChat(`ws://127.0.0.1:${toBob.port}`, 'bob', 'r');
    const cat = consoleChat(`ws://127.0.0.1:${toCat.port}`, 'cat', 'r');
    const all = [ann, bob, cat];
    await Promise.all(all.map((c) => c.waitFor(/\* joined r as /)));
    await say(ann, 'ann', 'one', all);
    await say(bob, 'bob', 'two', all);
    await say(cat, 'cat', 'three', all);

    // Redis restarts empty. While it is away a send is refused out loud, neither kept nor lost in silence.
    const from = [a, b].map((i) => i.proc.lines.length);
    await redis.kill();
    await Promise.all([a, b].map((i, k) => i.event('cluster-redis-lost', from[k])));
    const bobMark = bob.lines.length;
    bob.say('while away');
    await bob.waitFor(/! .*\(unavailable\)$/, bobMark);
    await redis.restart();
    await Promise.all([a, b].map((i, k) => i.event('cluster-redis-restored', from[k])));
    await say(ann, 'ann', 'four', all);
    await say(bob, 'bob', 'five', all);
    // The room's channel is a new epoch: each client said so, before "four".
    for (const c of all) {
      const notice = c.lines.findIndex((l) => RESTARTED.test(l));
      expect(notice).toBeGreaterThan(c.lines.findIndex((l) => / <cat> three$/.test(l)));
      expect(notice).toBeLessThan(c.lines.findIndex((l) => / <ann> four$/.test(l)));
    }

    // Instance a dies without a word, mid-conversation: ann and cat come back through b, under
    // their names (their keys take them back from a's lingering members), and get what was said meanwhile.
    await say(ann, 'ann', 'six', all);
    const marks = all.map((c) => c.lines.length);
    a.proc.kill('SIGKILL');
    toAnn.retarget(b.port);
    toCat.retarget(b.port);
    await Promise.all([ann, cat].map((c, k) => c.waitFor(/! connection lost/, marks[k === 0 ? 0 : 2])));
    bob.say('seven');
    await Promise.all([ann, cat].map((c, k) => c.waitFor(/\* rejoined r as /, marks[k === 0 ? 0 : 2], 40_000)));
    await Promise.all(all.map((c) => c.waitFor(/<bob> seven$/, 0, 40_000)));
    await say(cat, 'cat', 'eight', all);

    // cat is cut off; the others talk on; cat comes back and misses nothing.
    const catMark = cat.lines.length;
    toCat.cut();
    await cat.waitFor(/! connection lost/, catMark);
    await say(ann, 'ann', 'nine', [ann, bob]);
    await say(bob, 'bob', 'ten', [ann, bob]);
    await new Promise((resolve) => setTimeout(resolve, CUT_MS));
    expect(cat.messages()).not.toContain('ann: nine');
    toCat.restore();
    await cat.waitFor(/\* rejoined r as cat/, catMark, 40_000);
    await cat.waitFor(/<bob> ten$/, catMark, 40_000);

    const every = ['ann: one', 'bob: two', 'cat: three', 'ann: four', 'bob: five', 'ann: six', 'bob: seven', 'cat: eight', 'ann: nine', 'bob: ten'];
    for (const c of all) {
      expect(c.messages()).toEqual(every);
      expect(c.lines.filter((l) => RESTARTED.test(l))).toHaveLength(1);
      expect(c.lines.filter((l) => MISSED.test(l))).toEqual([]);
    }

    for (const c of all) c.say('/quit');
    expect(await Promise.all(all.map((c) => c.exited))).toEqual([0, 0, 0]);
    await Promise.all(relays.map((r) => r.close()));
    await stopInstance(b);
    await redis.stop();
  }, 240_000);
});
