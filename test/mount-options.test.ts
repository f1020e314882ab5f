import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { prepare } from '../server/app/prepare.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient } from './helpers/ws-client.ts';

let srv: Running;
let dir: string;
let upstream: http.Server;
let upstreamAuth: string | undefined;

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    upstreamAuth = req.headers.authorization;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-frame-options': 'SAMEORIGIN' });
    res.end('upstream');
  });
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  dir = makeConfigDir({
    files: {
      'www/index.html': 'home',
      'private/index.html': 'secret page',
      'passwd': 'alice:wonderland\r\nbob:builder:with:colons\n\n',
      'cgi/user.sh': '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n%s %s" "$AUTH_TYPE" "$REMOTE_USER"\n',
    },
  });
  fs.chmodSync(path.join(dir, 'cgi/user.sh'), 0o755);
  fs.writeFileSync(
    path.join(dir, 'conf.d/site'),
    `# headers as lwsws writes them: arrays of one-key objects
{ "vhosts": [{
  "name": "localhost",
  "port": "0",
  "headers": [{ "Content-Security-Policy": "default-src 'self'" }, { "X-Vhost": "v" }],
  "mounts": [
    { "mountpoint": "/", "origin": "file://www", "headers": [{ "X-Mount": "root" }, { "X-Vhost": "overridden" }] },
    { "mountpoint": "/old", "origin": ">https://new.example/landing" },
    { "mountpoint": "/docs", "origin": ">https://docs.example/v2/", "append-path": "1" },
    { "mountpoint": "/private", "origin": "file://private", "basic-auth": "passwd" },
    { "mountpoint": "/whoami", "origin": "cgi://cgi/user.sh", "basic-auth": "passwd" },
    { "mountpoint": "/nofile", "origin": "file://www", "basic-auth": "no-such-passwd" },
    { "mountpoint": "/up", "origin": "http://127.0.0.1:${upstreamPort}/", "basic-auth": "passwd", "headers": [{ "X-Frame-Options": "DENY" }] }
  ]
}] }`,
  );
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  removeConfigDirs();
});

const codes = () => srv.logs.map((l) => l.code).filter((c): c is string => typeof c === 'string');

describe('redirect mounts', () => {
  it('sends everything under the mountpoint to the target as written, with 301', async () => {
    for (const p of ['/old', '/old/', '/old/a/b?x=1']) {
      const r = await fetch(srv.url(p), { redirect: 'manual' });
      expect(r.status).toBe(301);
      expect(r.headers.get('location')).toBe('https://new.example/landing');
    }
  });

  it('appends the rest of the path and the query with append-path, encoded', async () => {
    const r = await fetch(srv.url('/docs/guide/a%20b?lang=en'), { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('https://docs.example/v2/guide/a%20b?lang=en');
    const bare = await fetch(srv.url('/docs'), { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('https://docs.example/v2/');
  });
});

describe('basic-auth', () => {
  it('asks for credentials with 401 and WWW-Authenticate, and refuses wrong ones', async () => {
    const none = await fetch(srv.url('/private/'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="tsws"');
    const wrong = await fetch(srv.url('/private/'), { headers: { authorization: basic('alice:looking-glass') } });
    expect(wrong.status).toBe(401);
    const prefix = await fetch(srv.url('/private/'), { headers: { authorization: basic('alice:wonder') } });
    expect(prefix.status).toBe(401);
    expect(codes()).toContain('TSWS_ERR_BASIC_AUTH_REFUSED');
  });

  it('accepts a user:password line of the file (passwords may hold colons)', async () => {
    const alice = await fetch(srv.url('/private/'), { headers: { authorization: basic('alice:wonderland') } });
    expect(alice.status).toBe(200);
    expect(await alice.text()).toBe('secret page');
    const bob = await fetch(srv.url('/private/'), { headers: { authorization: basic('bob:builder:with:colons') } });
    expect(bob.status).toBe(200);
  });

  it('tells a CGI script who logged in (AUTH_TYPE, REMOTE_USER)', async () => {
    const r = await fetch(srv.url('/whoami'), { headers: { authorization: basic('alice:wonderland') } });
    expect(await r.text()).toBe('Basic alice');
  });

  it('does not hand the credentials to a proxied upstream, and guards its websockets too', async () => {
    const r = await fetch(srv.url('/up/'), { headers: { authorization: basic('alice:wonderland') } });
    expect(r.status).toBe(200);
    expect(upstreamAuth).toBeUndefined();
    const refused = new WebSocket(srv.wsUrl('/up/'));
    const status = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.on('error', () => undefined);
    });
    expect(status).toBe(401);
    const c = await TestClient.open(srv.wsUrl('/up/'), undefined, { headers: { authorization: basic('alice:wonderland') } });
    c.send('hi');
    expect(await c.nextText()).toBe('hi');
    await c.close();
  });

  it('fails closed with 500 and a log line when the password file is missing', async () => {
    const r = await fetch(srv.url('/nofile/'), { headers: { authorization: basic('alice:wonderland') } });
    expect(r.status).toBe(500);
    expect(codes()).toContain('TSWS_ERR_BASIC_AUTH_FILE');
  });
});

describe('headers', () => {
  it('adds the vhost\'s headers to every response, the mount\'s winning over them', async () => {
    const r = await fetch(srv.url('/'));
    expect(r.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(r.headers.get('x-mount')).toBe('root');
    expect(r.headers.get('x-vhost')).toBe('overridden');
    const redirect = await fetch(srv.url('/old'), { redirect: 'manual' });
    expect(redirect.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(redirect.headers.get('x-vhost')).toBe('v');
    expect(redirect.headers.get('x-mount')).toBeNull();
    const notFound = await fetch(srv.url('/no-such-file'));
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-vhost')).toBe('overridden');
  });

  it('replaces an upstream\'s header of the same name with the configured one, on 401s too', async () => {
    const r = await fetch(srv.url('/up/'), { headers: { authorization: basic('alice:wonderland') } });
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toBe("default-src 'self'");
    const refused = await fetch(srv.url('/up/'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('config checks for these keys', () => {
  it('refuses malformed headers, cgi-env names and proxy URLs with their position', async () => {
    const bad = makeConfigDir({
      vhosts: {
        site: [{
          name: 'a',
          port: '0',
          headers: [{ 'Bad Header': 'x' }],
          mounts: [
            { mountpoint: '/p', origin: 'http://' },
            { mountpoint: '/c', origin: 'cgi://x.sh', 'cgi-env': [{ '1BAD': 'x' }] },
            { mountpoint: '/h', origin: 'file://.', headers: [{ 'X-Split': 'a\r\nInjected: yes' }] },
          ],
        }],
      },
    });
    const r = await prepare({ configDir: bad });
    expect(r.prepared).toBeUndefined();
    const msgs = r.errors.filter((e) => e.code === 'TSWS_ERR_CONFIG_VALUE').map((e) => e.message);
    expect(msgs.some((m) => /conf\.d\/site:\d+:\d+: bad "headers": "Bad Header" is not a valid header name/.test(m))).toBe(true);
    expect(msgs.some((m) => /bad "origin": "http:\/\/" is not an http\(s\) URL/.test(m))).toBe(true);
    expect(msgs.some((m) => /bad "cgi-env": "1BAD" is not a valid environment variable name/.test(m))).toBe(true);
    expect(msgs.some((m) => /the value of "X-Split" holds a line break/.test(m))).toBe(true);
  });

  it('warns about a missing CGI script, a missing password file and keys that do nothing on a mount', async () => {
    const d = makeConfigDir({ files: { 'not-exec.sh': '#!/bin/sh\n' } });
    fs.writeFileSync(path.join(d, 'conf.d/site'), JSON.stringify({ vhosts: [{ name: 'a', port: '0', mounts: [
      { mountpoint: '/a', origin: 'cgi://missing.sh' },
      { mountpoint: '/b', origin: 'cgi://not-exec.sh' },
      { mountpoint: '/c', origin: 'file://.', 'basic-auth': 'nope', 'append-path': '1', 'cgi-env': [{ A: 'b' }] },
      { mountpoint: '/d', origin: 'http://127.0.0.1:1/', interpret: { '.x': 'y' } },
    ] }] }));
    const r = await prepare({ configDir: d });
    expect(r.errors).toEqual([]);
    const w = r.warnings.map((e) => `${e.code} ${e.message}`);
    expect(w.some((m) => /^TSWS_WARN_CGI_SCRIPT_UNUSABLE .*missing\.sh does not exist/.test(m))).toBe(true);
    expect(w.some((m) => /^TSWS_WARN_CGI_SCRIPT_UNUSABLE .*not-exec\.sh is not executable/.test(m))).toBe(true);
    expect(w.some((m) => /^TSWS_WARN_BASIC_AUTH_FILE .*nope cannot be read/.test(m))).toBe(true);
    expect(w.some((m) => /^TSWS_WARN_MOUNT_KEY_UNUSED .*"append-path" has no effect/.test(m))).toBe(true);
    expect(w.some((m) => /^TSWS_WARN_MOUNT_KEY_UNUSED .*"cgi-env" has no effect/.test(m))).toBe(true);
    expect(w.some((m) => /^TSWS_WARN_CONFIG_NOT_IMPLEMENTED .*"interpret".*PROCESS_HTML/.test(m))).toBe(true);
    expect(w.some((m) => m.startsWith('TSWS_WARN_MOUNT_NOT_IMPLEMENTED'))).toBe(false);
  });
});
