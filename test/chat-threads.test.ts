/** @module count-threads 2 and no Redis: one chat room and one lws-status list span both threads (the channels' main-thread store). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from './helpers/chat.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

let server: TswsProcess;
let port = 0;
beforeAll(async () => {
  const dir = makeConfigDir({
    conf: { global: { 'count-threads': '2' } },
    vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ chat: { status: 'ok' }, 'lws-status': { status: 'ok' } }] }] },
  });
  server = runTsws(['-c', dir]);
  port = (await server.ready)[0]?.port ?? 0;
});
afterAll(() => {
  killAll();
  removeConfigDirs();
});

const url = () => `ws://127.0.0.1:${port}/`;
const KEY = 'bob-key-'.repeat(3);

interface Status { wsi: string; conns: { instance?: string }[] }
const last = (c: TestClient) => JSON.parse(c.received.at(-1)?.text ?? '{"wsi":"0","conns":[]}') as Status;

/** Waits until `c`'s latest status lists `n` clients. */
async function listed(c: TestClient, n: number): Promise<Status> {
  while (last(c).conns.length !== n) await c.nextText();
  return last(c);
}

describe('count-threads 2, no Redis', () => {
  it('puts two clients on different threads in one room: one member list, one offset sequence, each hears the other', async () => {
    const { client: ann, subscribed: annSub } = await ChatClient.open(url()).then(async (c) => ({ client: c, ...(await c.joinSubscribed('spread', 'ann')) }));
    const annThread = annSub.members.find((m) => m.name === 'ann')?.holder;
    expect(annThread).toBeDefined();
    // The kernel spreads connections over the threads: bob connects until he lands on the other one
    // (his key takes his name back from an attempt that landed on ann's thread).
    let bob: ChatClient | undefined;
    let bobThread: string | undefined;
    for (let i = 0; i < 100 && bob === undefined; i++) {
      const c = await ChatClient.open(url());
      const { welcome, subscribed } = await c.joinSubscribed('spread', 'bob', KEY);
      expect(welcome.members).toEqual(['ann', 'bob']);
      const holders = new Map(subscribed.members.map((m) => [m.name, m.holder]));
      if (holders.get('bob') !== annThread) {
        expect(holders.get('ann')).toBe(annThread);
        bob = c;
        bobThread = holders.get('bob');
      } else await c.close();
    }
    expect(bob).toBeDefined();
    expect(bobThread).not.toBe(annThread);
    if (!bob) return;
    await ann.until('joined', (j) => j.name === 'bob');

    ann.send('hello from one thread');
    const atBob = await bob.until('message');
    expect(atBob).toMatchObject({ name: 'ann', text: 'hello from one thread' });
    bob.send('and from the other');
    const atAnn = await ann.until('message', (m) => m.name === 'bob');
    expect(atAnn).toMatchObject({ text: 'and from the other', epoch: atBob.epoch, offset: atBob.offset + 1 });
    bob.request({ type: 'who' });
    expect((await bob.until('members')).members).toEqual(['ann', 'bob']);
    await ann.close();
    await bob.close();
  });

  it('lists status clients of both threads on one lws-status list, each naming its thread', async () => {
    const first = await TestClient.open(url(), 'lws-status');
    const one = await listed(first, 1);
    const firstThread = one.conns[0]?.instance;
    expect(firstThread).toBeDefined();
    let second: TestClient | undefined;
    for (let i = 0; i < 100 && second === undefined; i++) {
      const c = await TestClient.open(url(), 'lws-status');
      const both = await listed(c, 2);
      if (both.conns.some((e) => e.instance !== firstThread)) second = c;
      else {
        await c.close();
        await listed(first, 1);
      }
    }
    expect(second).toBeDefined();
    // Read on the first client's thread: the other thread's client is on it.
    const seen = await listed(first, 2);
    expect(seen.wsi).toBe('2');
    expect(new Set(seen.conns.map((e) => e.instance)).size).toBe(2);
    await second?.close();
    expect((await listed(first, 1)).conns[0]?.instance).toBe(firstThread);
    await first.close();
  });
});
