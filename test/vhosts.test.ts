import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient, upgradeStatus } from './helpers/ws-client.ts';

const PLUGIN = `
const who = (name) => ({ name, session: (vhost, req) => ({ said: false, req }),
  callbacks: {
    init(vhost, options) { return { options }; },
    established(conn) { conn.requestWritable(); },
    writable(conn) {
      if (conn.session.said) return;
      conn.session.said = true;
      const r = conn.session.req;
      conn.write(JSON.stringify({ protocol: conn.protocol, vhost: conn.vhost.vhostName, path: r.path, query: r.query, room: r.queryParam('room') ?? null, peer: r.peer, options: conn.vhost.state.options }));
    } } });
export default { apiVersion: 1, protocols: [
  who('alpha'), who('beta'), who('gamma'),
  { ...who('guarded'), callbacks: { ...who('guarded').callbacks,
      filter(req) { return req.headers['x-token'] === 'ok' ? 'accept' : { refuse: 401, reason: 'token required' }; } } },
  { ...who('slow-guard'), callbacks: { ...who('slow-guard').callbacks,
      async filter(req) { await new Promise((r) => setTimeout(r, 20)); return req.queryParam('pass') === '1' ? 'accept' : { refuse: 403 }; } } },
] };
`;

let srv: Running;
let sockDir: string;
const hello = async (url: string, proto?: string | string[], opts?: WebSocket.ClientOptions) => {
  const c = await TestClient.open(url, proto, opts);
  const m = JSON.parse(await c.nextText());
  await c.close();
  return m;
};

beforeAll(async () => {
  sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-sock-'));
  const dir = makeConfigDir({
    plugins: { 'who.js': PLUGIN },
    files: { 'a/index.html': 'site a', 'b/index.html': 'site b' },
    vhosts: {
      '10-a': [{ name: 'a.test', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: 'file://a' }],
        'ws-protocols': [{ alpha: { status: 'ok', color: 'red' }, beta: {}, guarded: {}, 'slow-guard': {} }] }],
      '20-b': [{ name: 'b.test', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: 'file://b' }],
        'ws-protocols': [{ alpha: { color: 'blue' }, beta: { default: '1' } }] }],
      '30-unix': [{ name: 'sock', 'unix-socket': '1', interface: path.join(sockDir, 'tsws.sock'), 'ws-protocols': [{ gamma: {} }] }],
      '40-lo': [{ name: 'lo.test', port: '0', interface: 'lo', 'ws-protocols': [{ gamma: {} }] }],
      '50-bare': [{ name: 'bare', port: '0', interface: '::1', mounts: [{ mountpoint: '/', origin: 'file://a' }] }],
    },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
  fs.rmSync(sockDir, { recursive: true, force: true });
});

describe('vhosts and listeners', () => {
  it('vhosts on one port share one listener and the Host header picks one; unknown names get the first', async () => {
    expect(srv.port('a.test')).toBe(srv.port('b.test'));
    const port = srv.port('a.test');
    // fetch() drops a custom Host header; node:http sends it as given.
    const body = (host: string) =>
      new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
          let d = '';
          res.on('data', (c) => (d += c)).on('end', () => resolve(d));
        }).on('error', reject);
      });
    expect(await body('a.test')).toBe('site a');
    expect(await body('B.TEST:1234')).toBe('site b');
    expect(await body('nobody.test')).toBe('site a');
  });

  it('listens on a UNIX domain socket, mode 0660 as lws makes it', async () => {
    const sock = path.join(sockDir, 'tsws.sock');
    expect(fs.statSync(sock).isSocket()).toBe(true);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o660);
    const m = await hello('ws+unix://' + sock + ':/x', 'gamma');
    expect(m).toMatchObject({ vhost: 'sock', protocol: 'gamma', path: '/x' });
  });

  it('binds an interface given by name, and an IPv6 address', async () => {
    expect(srv.server.listeners.find((l) => l.vhosts.includes('lo.test'))?.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = srv.port('bare');
    const text = await new Promise<string>((resolve, reject) => {
      http.get({ host: '::1', port, path: '/' }, (res) => {
        let d = '';
        res.on('data', (c) => (d += c)).on('end', () => resolve(d));
      }).on('error', reject);
    });
    expect(text).toBe('site a');
  });
});

describe('protocol selection', () => {
  it('the client list picks the first protocol the vhost offers, with that vhost own options', async () => {
    const port = srv.port('a.test');
    const a = await hello(`ws://127.0.0.1:${port}/`, ['nope', 'beta', 'alpha'], { headers: { host: 'a.test' } });
    expect(a).toMatchObject({ protocol: 'beta', vhost: 'a.test' });
    const red = await hello(`ws://127.0.0.1:${port}/`, 'alpha', { headers: { host: 'a.test' } });
    const blue = await hello(`ws://127.0.0.1:${port}/`, 'alpha', { headers: { host: 'b.test' } });
    expect(red.options.color).toBe('red');
    expect(blue.options.color).toBe('blue');
  });

  it('no protocol header gets the one marked default, else the first listed', async () => {
    const port = srv.port('a.test');
    expect((await hello(`ws://127.0.0.1:${port}/`, undefined, { headers: { host: 'a.test' } })).protocol).toBe('alpha');
    expect((await hello(`ws://127.0.0.1:${port}/`, undefined, { headers: { host: 'b.test' } })).protocol).toBe('beta');
  });

  it('an upgrade naming only protocols the vhost does not offer is refused with 400', async () => {
    const port = srv.port('a.test');
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/`, ['gamma'], { host: 'a.test' })).toBe(400);
    expect(await upgradeStatus(`ws://[::1]:${srv.port('bare')}/`, undefined)).toBe(400);
  });

  it('accepts upgrades on any path; the path, query and peer reach the plugin', async () => {
    const m = await hello(srv.wsUrl('/some/where?room=blue&x=1', 'a.test'), 'alpha', { headers: { host: 'a.test' } });
    expect(m).toMatchObject({ path: '/some/where', query: 'room=blue&x=1', room: 'blue', peer: '127.0.0.1' });
  });

  it('filter sees the request before the 101 and can refuse it, sync or async', async () => {
    const url = srv.wsUrl('/', 'a.test');
    expect(await upgradeStatus(url, 'guarded', { host: 'a.test' })).toBe(401);
    expect(await upgradeStatus(url, 'guarded', { host: 'a.test', 'x-token': 'ok' })).toBe(101);
    expect(await upgradeStatus(url, 'slow-guard', { host: 'a.test' })).toBe(403);
    expect(await upgradeStatus(srv.wsUrl('/?pass=1', 'a.test'), 'slow-guard', { host: 'a.test' })).toBe(101);
  });
});
