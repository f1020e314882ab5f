import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from './helpers/chat.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient } from './helpers/ws-client.ts';

/** The shipped plugins carry their state across a reload: clients of both generations meet. */
let srv: Running;
beforeAll(async () => {
  const logDir = path.join(makeConfigDir({}), 'packets');
  const dir = makeConfigDir({
    vhosts: {
      site: [{
        name: 'localhost', port: '0', interface: '127.0.0.1',
        mounts: [{ mountpoint: '/packets', origin: 'callback://protocol-lws-packet' }],
        'ws-protocols': [{ chat: {} }, { 'lws-status': {} }, { 'protocol-lws-packet': { 'log-dir': logDir } }],
      }],
    },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const post = async (body: unknown) => ((await (await fetch(srv.url('/packets'), { method: 'POST', body: JSON.stringify(body) })).json()) as { id: number }).id;

describe('reload hands state over', () => {
  it('chat: a member from before and one from after share the room and its history', async () => {
    const { client: before } = await ChatClient.joined(srv.wsUrl(), 'ada', 'ops');
    before.send('said before');
    await before.until('message', (m) => m.text === 'said before');
    const report = await srv.reload();
    expect(report.generation).toBeGreaterThan(1);

    const { client: after, welcome } = await ChatClient.joined(srv.wsUrl(), 'bob', 'ops');
    expect([...welcome.members].sort()).toEqual(['ada', 'bob']);
    expect(welcome.history.map((m) => m.text)).toEqual(['said before']);
    await before.until('joined', (j) => j.name === 'bob');
    after.send('said after');
    expect((await before.until('message', (m) => m.text === 'said after')).name).toBe('bob');
    before.send('and back');
    expect((await after.until('message', (m) => m.text === 'and back')).name).toBe('ada');
    await Promise.all([before.close(), after.close()]);
  });

  it('lws-packet: one log, ids continue, a subscriber from before gets packets posted after', async () => {
    const sub = await TestClient.open(srv.wsUrl(), 'protocol-lws-packet');
    const first = await post({ n: 1 });
    expect(JSON.parse(await sub.nextText())).toMatchObject({ id: first });
    await srv.reload();
    const second = await post({ n: 2 });
    expect(second).toBe(first + 1);
    expect(JSON.parse(await sub.nextText())).toMatchObject({ id: second, packet: { n: 2 } });
    // One writer of the file across generations: two would each trim it for retention.
    expect(srv.logs.filter((l) => l.msg === 'packet log open')).toHaveLength(1);
    await sub.close();
  });

  it('lws-status: clients of both generations are one list, and all hear each change', async () => {
    const a = await TestClient.open(srv.wsUrl(), 'lws-status', { headers: { 'user-agent': 'before' } });
    const wsi = async (c: TestClient) => (JSON.parse(await c.nextText()) as { wsi: string }).wsi;
    expect(await wsi(a)).toBe('1');
    await srv.reload();
    const b = await TestClient.open(srv.wsUrl(), 'lws-status', { headers: { 'user-agent': 'after' } });
    expect(await wsi(b)).toBe('2');
    expect(await wsi(a)).toBe('2');
    await b.close();
    expect(await wsi(a)).toBe('1');
    await a.close();
  });
});
