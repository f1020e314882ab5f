import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient, upgradeStatus } from './helpers/ws-client.ts';

/*
 * An apiVersion 2 plugin (test/plugins-v2/board.ts: no type arguments, no
 * casts) on server A: websocket clients, HTTP under a callback mount, and a
 * client connection to server B, another tsws serving the shipped echo. Both
 * run in this process, on real sockets.
 */
const PLUGINS = path.resolve(import.meta.dirname, 'plugins-v2');

let a: Running;
let b: Running;
const clients: TestClient[] = [];

beforeAll(async () => {
  b = await startInProcess(makeConfigDir({ vhosts: { b: [{ name: 'b', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] }] } }));
  a = await startInProcess(makeConfigDir({
    conf: { global: { 'plugin-dir': PLUGINS } },
    vhosts: {
      a: [{
        name: 'a', port: '0', interface: '127.0.0.1',
        mounts: [{ mountpoint: '/board', origin: 'callback://board-http' }],
        'ws-protocols': [{ board: { upstream: b.wsUrl() } }, { 'board-http': {} }],
      }],
    },
  }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await a?.stop();
  await b?.stop();
  removeConfigDirs();
});

async function open(name: string): Promise<TestClient> {
  const c = await TestClient.open(a.wsUrl(`/?name=${name}`), 'board');
  clients.push(c);
  return c;
}

interface Listing {
  readonly posts: string[];
  readonly echoed: number;
}

const listing = async (): Promise<Listing> => (await (await fetch(a.url('/board'))).json()) as Listing;

/** Reads the board until `done` holds: the echoes come back from B at their own pace. */
async function listingWhen(done: (l: Listing) => boolean): Promise<Listing> {
  for (;;) {
    const l = await listing();
    if (done(l)) return l;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('an apiVersion 2 plugin: websocket, HTTP and a client connection, one state per vhost', () => {
  it('serves websocket clients: every post reaches every client; the filter refuses an upgrade without a name', async () => {
    expect(await upgradeStatus(a.wsUrl('/'), 'board')).toBe(400);
    const ann = await open('ann');
    const bob = await open('bob');
    ann.send('hi');
    expect(await ann.nextText()).toBe('ann: hi');
    expect(await bob.nextText()).toBe('ann: hi');
  });

  it('answers HTTP on its callback mount with the same board: GET lists, POST posts to the websocket clients, the gate refuses', async () => {
    const [ann, bob] = clients;
    const posted = await fetch(a.url('/board'), { method: 'POST', body: 'note' });
    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ posted: 'note' });
    expect(await ann?.nextText()).toBe('http: note');
    expect(await bob?.nextText()).toBe('http: note');
    expect((await listing()).posts).toEqual(['ann: hi', 'http: note']);
    const refused = await fetch(a.url('/board'), { headers: { 'x-board-key': 'wrong' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('not your board');
    expect((await fetch(a.url('/board'), { method: 'PUT' })).status).toBe(405);
  });

  it('sends every post to the other tsws over its client connection, and counts the echoes', async () => {
    expect((await listingWhen((l) => l.echoed === 2)).echoed).toBe(2);
  });

  it('hands the board to the next configuration at a reload: posts kept, clients of both configurations hear new ones', async () => {
    const [ann, bob] = clients;
    await a.reload();
    expect((await listing()).posts).toEqual(['ann: hi', 'http: note']);
    const cy = await open('cy');
    ann?.send('after');
    expect(await ann?.nextText()).toBe('ann: after');
    expect(await bob?.nextText()).toBe('ann: after');
    expect(await cy.nextText()).toBe('ann: after');
    // The new configuration's link sends it on; the old one's was closed with its protocol's destroy or is idle.
    expect((await listingWhen((l) => l.echoed === 3)).posts).toHaveLength(3);
  });
});
