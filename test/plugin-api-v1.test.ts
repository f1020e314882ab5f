import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws, runTswsToEnd, type TswsProcess } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

/*
 * apiVersion 1 plugins as they were written before version 2
 * (test/fixtures/v1-plugins: README's and the guide's examples verbatim, and
 * one protocol serving websockets and HTTP with one session) still
 * type-check, load through the adapter and behave as they did.
 */
const V1 = path.resolve(import.meta.dirname, 'fixtures/v1-plugins');
const dir = makeConfigDir({
  conf: { global: { 'plugin-dir': V1 } },
  vhosts: {
    site: [{
      name: 'localhost', port: '0', interface: '127.0.0.1',
      mounts: [{ mountpoint: '/visits', origin: 'callback://visits' }],
      'ws-protocols': [{ shout: { greeting: 'hi' }, upper: {}, visits: {} }],
    }],
  },
});

let p: TswsProcess;
let url: string;
let http: string;
beforeAll(async () => {
  p = runTsws(['-c', dir]);
  const [listener] = await p.ready;
  url = `ws://127.0.0.1:${listener?.port}/`;
  http = `http://127.0.0.1:${listener?.port}`;
});
afterAll(() => {
  killAll();
  removeConfigDirs();
});

describe('apiVersion 1 plugins, unchanged', () => {
  it('pass --check, their types included', async () => {
    const r = await runTswsToEnd(['-c', dir, '--check']);
    expect(r.stdout).not.toMatch(/TSWS_ERR_PLUGIN_TYPE/);
    expect(r.code).toBe(0);
  });

  it("README's and the guide's plugins behave as those pages said", async () => {
    const u = await TestClient.open(url, 'upper');
    u.send('abc');
    expect(await u.nextText()).toBe('ABC');
    await u.close();
    const a = await TestClient.open(url, 'shout');
    const b = await TestClient.open(url, 'shout');
    expect(await a.nextText()).toBe('hi');
    expect(await b.nextText()).toBe('hi');
    a.send('abc');
    expect(await a.nextText()).toBe('ABC');
    expect(await a.nextText()).toBe('1');
    expect(await b.nextText()).toBe('1');
    await Promise.all([a.close(), b.close()]);
  });

  it('one session for websockets and HTTP, checkAccess saying "allow" or refusing', async () => {
    const first = await fetch(`${http}/visits/one`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('/visits/one 1');
    const refused = await fetch(`${http}/visits/two`, { headers: { 'x-key': 'no' } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('no entry');
    const ws = await TestClient.open(`${url}room`, 'visits');
    ws.send('hello');
    expect(await ws.nextText()).toBe('/room hello 1');
    await ws.close();
  });
});
