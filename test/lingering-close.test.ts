/**
 * @module Lingering close: an answer sent while the request body is still arriving reaches a client that keeps sending, with the server in another process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { decodeChunked, rawHead } from './helpers/raw-http.ts';

const PLUGIN = `
export default { apiVersion: 1, protocols: [{
  name: 'up', httpBodyLimit: 100000,
  callbacks: {
    http(txn) { if (txn.request.method !== 'POST') txn.requestWritable(); },
    httpBodyCompletion(txn) { txn.requestWritable(); },
    httpWritable(txn) { txn.writeHead(200, { 'content-type': 'text/plain' }, { end: true }); },
  },
}] };
`;

let port: number;
let upstream: http.Server;
const upstreamSaw: string[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    upstreamSaw.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('upstream'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const dir = makeConfigDir({
    plugins: { 'up.js': PLUGIN },
    files: { 'www/index.html': 'alive' },
    vhosts: {
      x: [
        {
          name: 'localhost',
          port: '0',
          interface: '127.0.0.1',
          mounts: [
            { mountpoint: '/', origin: 'file://www' },
            { mountpoint: '/cb', origin: 'callback://up' },
            { mountpoint: '/proxy', origin: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/app` },
          ],
          'ws-protocols': [{ up: {} }],
        },
      ],
    },
  });
  const server = runTsws(['-c', dir]);
  port = (await server.ready)[0]?.port ?? 0;
});
afterAll(async () => {
  killAll();
  await new Promise((resolve) => upstream?.close(resolve));
  removeConfigDirs();
});

interface Outcome {
  readonly status: number;
  readonly body: string;
  /** The response's terminating chunk arrived. */
  readonly complete: boolean;
  readonly error: string | undefined;
}

/**
 * POSTs `total` bytes (declared with Content-Length, or sent chunked) from a
 * raw socket that keeps writing, with backpressure, whatever comes back;
 * resolves once the response is complete, or the connection closed.
 */
function upload(path: string, total: number, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let error: string | undefined;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      s.destroy();
      const end = text.indexOf('\r\n\r\n');
      const raw = end < 0 ? '' : text.slice(end + 4);
      const complete = raw.endsWith('0\r\n\r\n');
      let body = '';
      try {
        body = decodeChunked(Buffer.from(raw, 'latin1')).toString();
      } catch {
        body = raw;
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body, complete, error });
    };
    // Liveness bound only.
    const bound = setTimeout(settle, 60_000);
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.endsWith('\r\n0\r\n\r\n')) settle();
    });
    s.on('error', (err) => (error = err.message));
    s.on('close', settle);
    s.on('connect', async () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`}\r\n\r\n`);
      const block = Buffer.alloc(64 * 1024, 120);
      for (let sent = 0; sent < total && !s.destroyed; sent += block.length) {
        const piece = block.subarray(0, Math.min(block.length, total - sent));
        const framed = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        if (!s.write(framed)) await new Promise((r) => s.once('drain', r).once('close', r));
      }
      if (chunked && !s.destroyed) s.write('0\r\n\r\n');
    });
  });
}

const FIVE_MB = 5 * 1024 * 1024;

describe('an answer sent while the body is still arriving', () => {
  it('a declared body over a callback mount limit: the client sending 5 MB reads the whole 413, 20 times out of 20', async () => {
    const got: Outcome[] = [];
    for (let i = 0; i < 20; i++) got.push(await upload('/cb/x', FIVE_MB, false));
    expect(got.map((o) => [o.status, o.complete, o.error])).toEqual(got.map(() => [413, true, undefined]));
    expect(got[0]?.body).toContain('the limit here is 100000');
  });

  it('a chunked body that passes the limit as it arrives: the whole 413', async () => {
    const got: Outcome[] = [];
    for (let i = 0; i < 5; i++) got.push(await upload('/cb/x', FIVE_MB, true));
    expect(got.map((o) => [o.status, o.complete, o.error])).toEqual(got.map(() => [413, true, undefined]));
  });

  it('a declared body over a proxy mount limit: the whole 413, and the upstream is never asked', async () => {
    const got: Outcome[] = [];
    for (let i = 0; i < 5; i++) got.push(await upload('/proxy/x', 2 * 1024 * 1024, false));
    expect(got.map((o) => [o.status, o.complete, o.error])).toEqual(got.map(() => [413, true, undefined]));
    expect(upstreamSaw).toEqual([]);
  });

  it('says Connection: close, and a client that stops sending is closed on within the bound', async () => {
    const started = Date.now();
    const r = await rawHead(port, 'POST /cb/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\n');
    expect(r.status).toBe(413);
    expect(r.head).toMatch(/^Connection: close$/im);
    // Body owed and never sent: the server gives up after LINGER_IDLE_MS (5 s) without data.
    const idle = await new Promise<number>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('POST /cb/z HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\nabc'));
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now()));
    });
    // Liveness only: closed, and not held for the 30 s total bound.
    expect(idle - started).toBeLessThan(25_000);
  });

  it('keeps serving afterwards', async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('alive');
  });
});
