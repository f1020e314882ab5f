/**
 * @module Requests refused before any mount sees them: ambiguous framing (400) and CONNECT (501), on every mount, with nothing after them on the connection reaching anyone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';

/** Every request the proxy's upstream received, as "METHOD url". */
const upstreamSaw: string[] = [];
let upstream: http.Server;
let srv: Running;
let port: number;

/** Records each request path it is asked for on globalThis (the test runs the server in this process). */
const PLUGIN = `
export default { apiVersion: 1, protocols: [{
  name: 'web',
  callbacks: {
    http(txn) {
      (globalThis.__smuggleSeen ??= []).push(txn.request.method + ' ' + txn.request.path);
      txn.requestWritable();
    },
    httpWritable(txn) {
      txn.writeHead(200, { 'content-type': 'text/plain' }, { end: true });
    },
  },
}] };
`;
const callbackSaw = (): string[] => ((globalThis as { __smuggleSeen?: string[] }).__smuggleSeen ??= []);

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    upstreamSaw.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('upstream'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const dir = makeConfigDir({
    conf: { global: { metrics: { path: '/metrics' } } },
    plugins: { 'web.js': PLUGIN },
    files: { 'www/index.html': 'alive', 'www/SMUGGLED': 'smuggled file' },
    vhosts: {
      x: [
        {
          name: 'localhost',
          port: '0',
          interface: '127.0.0.1',
          mounts: [
            { mountpoint: '/', origin: 'file://www' },
            { mountpoint: '/cb', origin: 'callback://web' },
            { mountpoint: '/proxy', origin: `http://127.0.0.1:${upstreamPort}/app` },
          ],
          'ws-protocols': [{ web: {} }],
        },
      ],
    },
  });
  srv = await startInProcess(dir);
  port = srv.port();
});
afterAll(async () => {
  await srv?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  removeConfigDirs();
});

/** Sends `parts` on one connection (each its own write, `gapMs` apart) and returns every status line that came back before the server closed it. */
function statuses(parts: readonly string[], gapMs = 0): Promise<number[]> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const p of parts) {
        if (s.destroyed) break;
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    const chunks: Buffer[] = [];
    // Liveness bound only: a server that neither answers nor closes fails the assertions.
    const bound = setTimeout(() => s.destroy(), 20_000);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(bound);
      resolve([...Buffer.concat(chunks).toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])));
    });
  });
}

/**
 * 2xx answers the server has counted so far (its own metrics). Reading them
 * is itself one 200, counted after it rendered: two readings around an attack
 * that served nothing differ by exactly 1.
 */
async function served2xx(): Promise<number> {
  const text = await (await fetch(srv.url('/metrics'))).text();
  return [...text.matchAll(/^tsws_http_requests_total\{[^}]*status="2\d\d"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

const smuggled = (prefix: string) => `GET ${prefix}/SMUGGLED HTTP/1.1\r\nHost: localhost\r\n\r\n`;

/** Ambiguous heads, each followed by `after` (the smuggled request) where a lax reader would take it for the next request. */
const ATTACKS: Readonly<Record<string, (path: string, after: string) => string>> = {
  'two different Content-Length headers': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: ${after.length}\r\n\r\n${after}`,
  'Content-Length with Transfer-Encoding': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${after}`,
  'Transfer-Encoding: chunked, then a second Transfer-Encoding: gzip': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n${after}`,
  'Transfer-Encoding: chunked, chunked': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${after}`,
  'an empty Transfer-Encoding beside Content-Length': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: \r\nContent-Length: 5\r\n\r\nabcde${after}`,
  'a malformed Content-Length': (p, after) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 5\r\n\r\nabcde${after}`,
};

const MOUNTS = { file: '', callback: '/cb', proxy: '/proxy' } as const;

describe('ambiguous request framing', () => {
  for (const [mount, prefix] of Object.entries(MOUNTS)) {
    for (const [name, attack] of Object.entries(ATTACKS)) {
      it(`${name} on a ${mount} mount: at most a 400, and the request after it reaches nobody`, async () => {
        const before = await served2xx();
        const got = await statuses([attack(`${prefix}/index.html`, smuggled(prefix))]);
        expect(await served2xx()).toBe(before + 1);
        expect(got.filter((s) => s !== 400)).toEqual([]);
        expect(got.length).toBeLessThanOrEqual(1);
        expect(upstreamSaw.filter((l) => l.includes('SMUGGLED'))).toEqual([]);
        expect(callbackSaw().filter((l) => l.includes('SMUGGLED'))).toEqual([]);
      });
    }

    it(`two different Content-Length headers on a ${mount} mount, the smuggled request sent later: 400, the connection closes, nothing else is served`, async () => {
      const after = smuggled(prefix);
      const head = `POST ${prefix}/index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: ${after.length}\r\n\r\n`;
      // Nothing follows in the first packet, so the 400 goes out; what comes later is never read as a request.
      const before = await served2xx();
      expect(await statuses([head, after], 200)).toEqual([400]);
      expect(await served2xx()).toBe(before + 1);
      expect(upstreamSaw.filter((l) => l.includes('SMUGGLED'))).toEqual([]);
      expect(callbackSaw().filter((l) => l.includes('SMUGGLED'))).toEqual([]);
    });
  }

  it('logs the refusal with its code', () => {
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_HTTP_BAD_BODY_HEADERS' && String(l.detail) === 'conflicting Content-Length headers')).toBe(true);
  });

  it('refuses an upgrade with two different Content-Length headers, and serves nothing after it', async () => {
    const after = smuggled('/cb');
    const upgrade = `GET /cb HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: web\r\nContent-Length: 0\r\nContent-Length: ${after.length}\r\n\r\n`;
    expect(await statuses([upgrade, after], 200)).toEqual([400]);
    expect((await statuses([upgrade + after])).filter((s) => s !== 400)).toEqual([]);
    expect(callbackSaw().filter((l) => l.includes('SMUGGLED'))).toEqual([]);
  });

  for (const [mount, prefix] of Object.entries(MOUNTS)) {
    it(`CONNECT ${prefix}/tunnel on a ${mount} mount, in any case: 501, closed, and nothing reaches the upstream or the plugin`, async () => {
      const connect = (method: string) => `${method} ${prefix}/tunnel HTTP/1.1\r\nHost: localhost\r\n\r\n`;
      expect(await statuses([connect('CONNECT'), smuggled(prefix)], 200)).toEqual([501]);
      expect(await statuses([connect('connect'), smuggled(prefix)], 200)).toEqual([501]);
      expect(upstreamSaw.filter((l) => /^CONNECT|tunnel|SMUGGLED/i.test(l))).toEqual([]);
      expect(callbackSaw().filter((l) => /^CONNECT|tunnel|SMUGGLED/i.test(l))).toEqual([]);
    });
  }

  it('CONNECT to an authority (host:port) is answered 505 by the transport itself, and nothing reaches anyone', async () => {
    expect(await statuses(['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'], 200)).toEqual([505]);
    expect(upstreamSaw.filter((l) => /example/i.test(l))).toEqual([]);
  });

  it('answers CONNECT with the 501 and its coded log line', async () => {
    const r = await statuses(['CONNECT /proxy/x HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    expect(r).toEqual([501]);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_HTTP_CONNECT_REFUSED')).toBe(true);
  });

  it('still serves well-framed requests, pipelined ones and identical duplicate lengths included, on every mount', async () => {
    const req = (p: string, extra = '') => `GET ${p} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
    const post = `POST /cb/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`;
    // Last: a proxied answer comes after the request callback returns, and uWS.js aborts such a request when another follows it.
    const chunked = `POST /proxy/y HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`;
    expect(await statuses([req('/') + req('/cb/a') + post + chunked])).toEqual([200, 200, 200, 200]);
    expect(upstreamSaw).toContain('POST /app/y');
  });
});
