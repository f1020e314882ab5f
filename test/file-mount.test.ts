import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { get, rawRequest } from './helpers/raw-http.ts';

let srv: Running;
let dir: string;
const big = crypto.randomBytes(3 * 1024 * 1024 + 17);

beforeAll(async () => {
  dir = makeConfigDir({
    files: {
      'www/index.html': '<h1>home</h1>',
      'www/style.css': 'body{}',
      'www/data.weird': 'x',
      'www/custom.zz': 'zz',
      'www/sub/index.html': 'sub index',
      'www/big.bin': big,
      'www/404.html': 'custom not found',
      'secret.txt': 'top secret',
      'cached/a.js': 'let a',
      'plain/readme.txt': 'plain',
    },
  });
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'www/escape.txt'));
  fs.symlinkSync(path.join(dir, 'www/style.css'), path.join(dir, 'www/inside.css'));
  fs.writeFileSync(
    path.join(dir, 'conf.d/site'),
    JSON.stringify({
      vhosts: [{
        name: 'localhost',
        port: '0',
        'error-document-404': '/404.html',
        mounts: [
          { mountpoint: '/', origin: `file://${dir}/www`, 'extra-mimetypes': { '.zz': 'application/x-zz' } },
          { mountpoint: '/cached', origin: `file://${dir}/cached`, 'cache-max-age': '60', 'cache-reuse': '1', 'cache-intermediaries': '1' },
          { mountpoint: '/reval', origin: `file://${dir}/cached`, 'cache-max-age': '30', 'cache-reuse': '1', 'cache-revalidate': '1' },
          { mountpoint: '/plain', origin: `file://${dir}/plain`, default: 'readme.txt' },
        ],
      }],
    }),
  );
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

describe('file:// mounts', () => {
  it('answer GET and HEAD only: PUT, DELETE, POST, PROPFIND, TRACE (bodies and all) and OPTIONS get 405 with Allow, never the file', async () => {
    const body = 'replacement';
    for (const [method, withBody] of [['PUT', true], ['DELETE', false], ['POST', true], ['PROPFIND', true], ['TRACE', true], ['OPTIONS', false], ['get', false]] as const) {
      const extra = withBody ? `Content-Length: ${body.length}\r\n\r\n${body}` : '\r\n';
      const r = await rawRequest(srv.port(), `${method} /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}`);
      expect({ method, status: r.status }).toEqual({ method, status: 405 });
      expect(r.head).toMatch(/\r\nAllow: GET, HEAD\r\n/i);
      expect(r.body).not.toContain('<h1>home</h1>');
    }
    // ...wherever the path leads: a directory, a missing file
    expect((await fetch(srv.url('/sub'), { method: 'DELETE', redirect: 'manual' })).status).toBe(405);
    expect((await fetch(srv.url('/nothing-here'), { method: 'PUT', body: 'x' })).status).toBe(405);
    expect(fs.readFileSync(path.join(dir, 'www/index.html'), 'utf8')).toBe('<h1>home</h1>');
    const head = await fetch(srv.url('/index.html'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, '13']);
    expect(await (await fetch(srv.url('/index.html'))).text()).toBe('<h1>home</h1>');
  });

  it('serves the default file with its type, ETag and the no-store default', async () => {
    const r = await fetch(srv.url('/'));
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('<h1>home</h1>');
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('etag')).toMatch(/^"[0-9A-F]{16}"$/);
    expect(r.headers.get('server')).toBe('tsws');
  });

  it('picks MIME types by extension, extra-mimetypes first, octet-stream for unknown ones', async () => {
    expect((await fetch(srv.url('/style.css'))).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(srv.url('/custom.zz'))).headers.get('content-type')).toBe('application/x-zz');
    expect((await fetch(srv.url('/data.weird'))).headers.get('content-type')).toBe('application/octet-stream');
  });

  it('computes Cache-Control as lwsws does', async () => {
    expect((await fetch(srv.url('/cached/a.js'))).headers.get('cache-control')).toBe('public, max-age=60');
    expect((await fetch(srv.url('/reval/a.js'))).headers.get('cache-control')).toBe('must-revalidate, private, max-age=30');
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const first = await fetch(srv.url('/cached/a.js'));
    const etag = first.headers.get('etag') ?? '';
    const again = await fetch(srv.url('/cached/a.js'), { headers: { 'if-none-match': `W/${etag}, "other"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('cache-control')).toBe('public, max-age=60');
    expect((await fetch(srv.url('/cached/a.js'), { headers: { 'if-none-match': '"nope"' } })).status).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await rawRequest(srv.port(), 'HEAD /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.head).toMatch(/content-length: 6/i);
    expect(r.body).toBe('');
  });

  it('redirects a mountpoint or directory without its slash, keeping the query', async () => {
    const r = await fetch(srv.url('/plain?x=1'), { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/plain/?x=1');
    const d = await fetch(srv.url('/sub'), { redirect: 'manual' });
    expect(d.headers.get('location')).toBe('/sub/');
    expect(await (await fetch(srv.url('/plain/'))).text()).toBe('plain');
    expect(await (await fetch(srv.url('/sub/'))).text()).toBe('sub index');
  });

  it('serves error-document-404 with status 404', async () => {
    const r = await fetch(srv.url('/missing.html'));
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('custom not found');
  });

  it('answers HEAD of the error document with 404 and its length', async () => {
    const r = await rawRequest(srv.port(), 'HEAD /missing.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(404);
    expect(r.head).toMatch(/content-length: 16/i);
    expect(r.body).toBe('');
  });

  it('serves an edited file with its new body, length and ETag once revalidated (heads are rendered per file version)', async () => {
    const file = path.join(dir, 'www/data.weird');
    const before = await fetch(srv.url('/data.weird'));
    expect(await before.text()).toBe('x');
    fs.writeFileSync(file, 'xyz!');
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(file, t, t);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await fetch(srv.url('/data.weird'));
    expect(await after.text()).toBe('xyz!');
    expect(after.headers.get('content-length')).toBe('4');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    const head = await rawRequest(srv.port(), 'HEAD /data.weird HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head.head).toMatch(/content-length: 4/i);
    const stale = await fetch(srv.url('/data.weird'), { headers: { 'if-none-match': before.headers.get('etag') ?? '' } });
    expect(stale.status).toBe(200);
    const fresh = await fetch(srv.url('/data.weird'), { headers: { 'if-none-match': after.headers.get('etag') ?? '' } });
    expect(fresh.status).toBe(304);
  });

  it('follows symlinks inside the root and never out of it', async () => {
    expect(await (await fetch(srv.url('/inside.css'))).text()).toBe('body{}');
    const r = await fetch(srv.url('/escape.txt'));
    expect(r.status).toBe(404);
    expect(await r.text()).not.toContain('top secret');
  });

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2e/%2e%2E/secret.txt',
    '/sub/../../secret.txt',
    '/%252e%252e/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/secret.txt%00.html',
    '/cached/../../secret.txt',
  ])('never serves a file outside the root for %s', async (target) => {
    const r = await rawRequest(srv.port(), get(target));
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toContain('top secret');
  });

  it('streams a file larger than the memory cache intact', async () => {
    const r = await fetch(srv.url('/big.bin'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(big.length));
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.equals(big)).toBe(true);
  });

  it('keeps serving while many large downloads run at once', async () => {
    const bodies = await Promise.all(Array.from({ length: 8 }, () => fetch(srv.url('/big.bin')).then((r) => r.arrayBuffer())));
    for (const b of bodies) expect(Buffer.from(b).equals(big)).toBe(true);
    expect((await fetch(srv.url('/style.css'))).status).toBe(200);
  });
});
