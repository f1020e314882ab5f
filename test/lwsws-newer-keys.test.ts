import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { prepare } from '../server/app/prepare.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient } from './helpers/ws-client.ts';

// Keys of newer lws releases (lib/misc/lejp-conf.c), each in the block lws reads it from.
let srv: Running;
let dir: string;
let upstream: http.Server;

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('upstream'));
  new WebSocketServer({ server: upstream }).on('connection', (ws) => ws.send('from upstream'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
  dir = makeConfigDir({
    files: { 'www/index.html': 'home', 'work/.keep': '', 'cgi/pwd.sh': '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n%s" "$(pwd)"\n' },
  });
  fs.chmodSync(path.join(dir, 'cgi/pwd.sh'), 0o755);
  fs.writeFileSync(path.join(dir, 'conf.d/site'), JSON.stringify({ vhosts: [{
    name: 'localhost', port: '0', sts: 'on',
    'ws-protocols': [{ echo: {} }],
    mounts: [
      { mountpoint: '/', origin: 'file://www', 'cache-no': '1', 'cache-reuse': '1', 'cache-max-age': '60', 'keepalive-timeout': '5' },
      { mountpoint: '/go', origin: '>https://elsewhere.example/', 'exact-match': '1' },
      { mountpoint: '/up', origin: up },
      { mountpoint: '/up-http', origin: up, 'no-ws-upgrades': '1' },
      { mountpoint: '/long', origin: 'file://www', 'keepalive-timeout': '30' },
      { mountpoint: '/pwd', origin: 'cgi://cgi/pwd.sh', 'cgi-chdir': 'work' },
    ],
  }] }));
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  upstream.close();
  removeConfigDirs();
});

describe('keys of newer lws releases', () => {
  it('cache-no sends "Cache-Control: no-cache", winning over cache-reuse/cache-max-age', async () => {
    expect((await fetch(srv.url('/index.html'))).headers.get('cache-control')).toBe('no-cache');
  });

  it('exact-match serves the mountpoint itself only; the paths below go to the next mount', async () => {
    const exact = await fetch(srv.url('/go'), { redirect: 'manual' });
    expect(exact.status).toBe(301);
    expect(exact.headers.get('location')).toBe('https://elsewhere.example/');
    expect((await fetch(srv.url('/go/index.html'), { redirect: 'manual' })).status).toBe(404);
  });

  it('no-ws-upgrades: an upgrade skips the mount (served by the vhost protocol), plain HTTP still uses it', async () => {
    const proxied = await TestClient.open(srv.wsUrl('/up'), 'echo');
    expect(await proxied.nextText()).toBe('from upstream');
    await proxied.close();
    expect(await (await fetch(srv.url('/up-http'))).text()).toBe('upstream');
    const local = await TestClient.open(srv.wsUrl('/up-http'), 'echo');
    local.send('mine');
    expect(await local.nextText()).toBe('mine');
    await local.close();
  });

  it('keepalive-timeout is advertised as Keep-Alive: timeout=N, cut to what uWS.js keeps (10 s) with a warning', async () => {
    expect((await fetch(srv.url('/index.html'))).headers.get('keep-alive')).toBe('timeout=5');
    expect((await fetch(srv.url('/long/index.html'))).headers.get('keep-alive')).toBe('timeout=10');
    expect(srv.warnings.some((w) => w.code === 'TSWS_WARN_MOUNT_KEEPALIVE_CUT' && /"keepalive-timeout" 30 s/.test(w.message))).toBe(true);
  });

  it('cgi-chdir is the script\'s working directory (relative to the config directory)', async () => {
    expect(await (await fetch(srv.url('/pwd'))).text()).toBe(fs.realpathSync(path.join(dir, 'work')));
  });

  it('sts sends Strict-Transport-Security on a plain vhost too, as lws does', async () => {
    expect((await fetch(srv.url('/index.html'))).headers.get('strict-transport-security')).toBe('max-age=15768000; includeSubDomains');
  });

  it('accepts the rest in their own blocks with a "known, not implemented" warning each', async () => {
    const d = makeConfigDir({
      conf: { global: { 'count-async-threads': '2', 'cpd-bypass': '1', 'quic-pad-crypto': '1', 'allow-early-data': '1', 'quic-only-latest': '1', 'quic-early-key-update': '1' } },
      vhosts: { a: [{
        name: 'a', port: '0', 'client-ecdh-curve': 'prime256v1', 'quic-mtu': '1200', 'quic-preferred-addresses': '::1', dht: [{ name: 'x', port: '1' }],
        mounts: [{ mountpoint: '/', origin: 'cgi://x.sh', 'cgi-chroot': '/srv', 'interceptor-path': '/login' }],
      }] },
    });
    const r = await prepare({ configDir: d });
    expect(r.errors.map((e) => e.message)).toEqual([]);
    const notImplemented = r.warnings.filter((w) => w.code === 'TSWS_WARN_CONFIG_NOT_IMPLEMENTED').map((w) => /"([^"]+)" is a known lwsws key/.exec(w.message)?.[1]);
    expect(notImplemented.sort()).toEqual(['allow-early-data', 'cgi-chroot', 'client-ecdh-curve', 'count-async-threads', 'cpd-bypass', 'dht', 'interceptor-path', 'quic-early-key-update', 'quic-mtu', 'quic-only-latest', 'quic-pad-crypto', 'quic-preferred-addresses']);
  });
});
