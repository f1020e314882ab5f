import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawHead, rawRequest } from './helpers/raw-http.ts';
import { TestClient } from './helpers/ws-client.ts';

const big = crypto.randomBytes(3 * 1024 * 1024 + 5);
const STREAM_BLOCKS = 512;
const STREAM_BLOCK = 65536;

/** What the upstream saw of each request, by path. */
const seen = new Map<string, { method: string; url: string; headers: http.IncomingHttpHeaders; bodyHash: string; bodyLength: number }>();
/** Blocks the upstream's /app/stream handler got into its socket so far. */
let streamed = 0;
/** The upstream saw its /app/stream response closed before it finished. */
let streamAborted = false;
let wsSeen: { url: string; headers: http.IncomingHttpHeaders } | undefined;
const wsClosedWith: { code: number; reason: string }[] = [];
/** Upstream websocket: messages its sends of the "flood" handed to the kernel. */
let flooded = 0;

function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    seen.set(url.pathname, { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyHash: crypto.createHash('sha256').update(body).digest('hex'), bodyLength: body.length });
    // Routes by the first two segments: "/app/echo/deeper" is "/app/echo".
    switch (url.pathname.split('/').slice(0, 3).join('/')) {
      case '/app/echo':
      case '/app/upload':
        res.writeHead(200, { 'content-type': 'application/json', connection: 'x-hop', 'x-hop': 'dropped', server: 'upstream-server' });
        return void res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length, hash: seen.get(url.pathname)?.bodyHash }));
      case '/app/big':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
        return void res.end(big);
      case '/app/big-chunked':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < big.length; i += 100_000) res.write(big.subarray(i, i + 100_000));
        return void res.end();
      case '/app/stream': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(STREAM_BLOCKS * STREAM_BLOCK) });
        streamed = 0;
        streamAborted = false;
        res.on('close', () => (streamAborted = !res.writableFinished));
        const block = Buffer.alloc(STREAM_BLOCK, 7);
        const pump = () => {
          while (streamed < STREAM_BLOCKS) {
            streamed++;
            if (streamed === STREAM_BLOCKS) return void res.end(block);
            if (!res.write(block)) return void res.once('drain', pump);
          }
        };
        return pump();
      }
      case '/app/redirect':
        res.writeHead(302, { location: `http://127.0.0.1:${upstreamPort}/app/target?q=1` });
        return void res.end();
      case '/app/teapot':
        res.writeHead(418, [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain'], ['X-Name', 'caf\u00e9']]);
        return void res.end('short and stout');
      case '/app/hang-up':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('only part of it');
        return void setTimeout(() => res.socket?.destroy(), 50);
      default:
        res.writeHead(404);
        res.end();
    }
  });
}

/** The "/keep" mount's upstream: counts its connections and each request's arrivals by method and path. */
let keepUpstream: http.Server;
let keepConnections = 0;
const keepArrivals = new Map<string, number>();
/** Server side of the last connection that closed, once it has. */
let keepLastClosed = 0;

function keepHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const key = `${req.method} ${req.url}`;
  const n = (keepArrivals.get(key) ?? 0) + 1;
  keepArrivals.set(key, n);
  req.resume();
  req.on('end', () => {
    // The first arrival of a /flaky request: the connection is closed under it, unanswered, as an upstream whose idle timeout strikes just as the request comes.
    if (req.url?.startsWith('/flaky') && n === 1) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    // Answered with keep-alive, then closed: the proxy's kept connection dies between requests.
    if (req.url === '/close-after') res.on('finish', () => req.socket.destroy());
  });
}

let upstream: http.Server;
let upstreamPort: number;
let wss: WebSocketServer;
let srv: Running;
let deadPort: number;

beforeAll(async () => {
  upstream = http.createServer(upstreamHandler);
  wss = new WebSocketServer({ server: upstream, handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
  wss.on('connection', (ws, req) => {
    wsSeen = { url: req.url ?? '', headers: req.headers };
    ws.on('close', (code, reason) => wsClosedWith.push({ code, reason: reason.toString() }));
    ws.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text === 'close-me') return ws.close(4001, 'bye');
      if (text === 'stop-reading') return ws.pause();
      if (text === 'flood') {
        flooded = 0;
        const block = Buffer.alloc(STREAM_BLOCK, 1);
        for (let i = 0; i < STREAM_BLOCKS; i++) ws.send(block, { binary: true }, () => flooded++);
        return;
      }
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  keepUpstream = http.createServer(keepHandler);
  keepUpstream.on('connection', (socket) => {
    keepConnections++;
    socket.on('close', () => keepLastClosed++);
  });
  await new Promise<void>((resolve) => keepUpstream.listen(0, '127.0.0.1', resolve));
  // A port nothing listens on: bind one, then let it go.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const dir = makeConfigDir({});
  fs.writeFileSync(
    path.join(dir, 'conf.d/site'),
    JSON.stringify({
      vhosts: [{
        name: 'localhost',
        port: '0',
        mounts: [
          { mountpoint: '/up', origin: `http://127.0.0.1:${upstreamPort}/app` },
          { mountpoint: '/down', origin: `http://127.0.0.1:${deadPort}/` },
          { mountpoint: '/keep', origin: `http://127.0.0.1:${(keepUpstream.address() as AddressInfo).port}/` },
        ],
      }],
    }),
  );
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  for (const c of wss.clients) c.terminate();
  wss.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  keepUpstream.closeAllConnections();
  await new Promise((resolve) => keepUpstream.close(resolve));
  removeConfigDirs();
});

const codes = () => srv.logs.map((l) => l.code).filter((c): c is string => typeof c === 'string');

async function until(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until `value()` stops changing for a while: the producer it counts has stalled (or finished). */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  let stable = 0;
  while (stable < 8) {
    await new Promise((r) => setTimeout(r, 100));
    const now = value();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

describe('http:// proxy mounts: HTTP', () => {
  it('forwards the path below the mountpoint and the query, with X-Forwarded-For/-Proto/-Host', async () => {
    const r = await fetch(srv.url('/up/echo/deeper%20down?x=1&y=2'), { headers: { 'x-forwarded-for': '10.0.0.9', 'x-custom': 'kept' } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ method: 'GET', url: '/app/echo/deeper%20down?x=1&y=2' });
    const s = seen.get('/app/echo/deeper down') ?? seen.get('/app/echo/deeper%20down');
    expect(s?.headers['x-forwarded-for']).toBe('10.0.0.9, 127.0.0.1');
    expect(s?.headers['x-forwarded-proto']).toBe('http');
    expect(s?.headers['x-forwarded-host']).toBe(`127.0.0.1:${srv.port()}`);
    expect(s?.headers.host).toBe(`127.0.0.1:${upstreamPort}`);
    expect(s?.headers['x-custom']).toBe('kept');
  });

  it('passes end-to-end response headers but not hop-by-hop ones, and writes its own Server', async () => {
    const r = await fetch(srv.url('/up/echo'));
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-hop')).toBeNull();
    expect(r.headers.get('server')).toBe('tsws');
    const tea = await fetch(srv.url('/up/teapot'));
    expect(tea.status).toBe(418);
    expect(tea.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await tea.text()).toBe('short and stout');
  });

  it('passes a response header value on as the bytes the upstream sent (obs-text not re-encoded as UTF-8)', async () => {
    const r = await rawRequest(srv.port(), 'GET /up/teapot HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(418);
    // rawRequest reads bytes as latin1: byte 0xE9 is "\u00e9"; its UTF-8 form (C3 A9) would read "\u00c3\u00a9".
    expect(r.head).toContain('X-Name: caf\u00e9\r\n');
  });

  it('streams a request body larger than one chunk to the upstream, and the connection stays usable', async () => {
    const body = crypto.randomBytes(900 * 1024);
    // One socket for both requests: an upload that left the client's socket paused would hang the second.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, p: string, data?: Buffer) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(srv.url(p), { method, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(data);
      });
    const answer = JSON.parse((await send('POST', '/up/upload', body)).text) as { length: number; hash: string };
    expect(answer.length).toBe(body.length);
    expect(answer.hash).toBe(crypto.createHash('sha256').update(body).digest('hex'));
    expect((await send('GET', '/up/echo')).status).toBe(200);
    agent.destroy();
  });

  it('streams large responses back, with and without Content-Length', async () => {
    for (const p of ['/up/big', '/up/big-chunked']) {
      const r = await fetch(srv.url(p));
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(big)).toBe(true);
    }
  });

  it('stops reading from the upstream while the client does not read, then delivers every byte', async () => {
    let res!: http.IncomingMessage;
    const req = http.get(srv.url('/up/stream'));
    await new Promise<void>((resolve) => req.on('response', (r) => {
      res = r;
      r.pause();
      resolve();
    }));
    expect(await settled(() => streamed)).toBeLessThan(STREAM_BLOCKS);
    let bytes = 0;
    res.on('data', (c: Buffer) => (bytes += c.length));
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    expect(bytes).toBe(STREAM_BLOCKS * STREAM_BLOCK);
  });

  it('drops the upstream request when the client disconnects mid-response', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(srv.url('/up/stream'), (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    await until(() => streamAborted, 'the upstream response to be closed');
    expect(streamed).toBeLessThan(STREAM_BLOCKS);
    expect((await fetch(srv.url('/up/echo'))).status).toBe(200);
  });

  it('answers HEAD with the upstream\'s Content-Length and no body', async () => {
    const r = await rawRequest(srv.port(), 'HEAD /up/big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.head).toMatch(new RegExp(`^Content-Length: ${big.length}$`, 'im'));
    expect(r.body).toBe('');
  });

  it('rewrites a Location into the upstream\'s space to the mountpoint, and sends /mnt to /mnt/', async () => {
    const r = await fetch(srv.url('/up/redirect'), { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/up/target?q=1');
    const bare = await fetch(srv.url('/up?a=b'), { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/up/?a=b');
  });

  it('answers 502 when the upstream cannot be reached, and cuts a response the upstream breaks off', async () => {
    const r = await fetch(srv.url('/down/anything'));
    expect(r.status).toBe(502);
    expect(codes()).toContain('TSWS_ERR_PROXY_UPSTREAM');
    const upload = await rawHead(srv.port(), 'POST /down/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500000\r\n\r\n');
    expect(upload.status).toBe(502);
    expect(upload.head).toMatch(/^Connection: close$/im);
    const cut = await fetch(srv.url('/up/hang-up'));
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();
    expect((await fetch(srv.url('/up/echo'))).status).toBe(200);
  });

  it('refuses a body over the limit with 413 before contacting the upstream', async () => {
    seen.delete('/app/upload');
    const r = await rawHead(srv.port(), 'POST /up/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999\r\n\r\n');
    expect(r.status).toBe(413);
    expect(codes()).toContain('TSWS_ERR_HTTP_BODY_TOO_LARGE');
    expect(seen.has('/app/upload')).toBe(false);
  });
});

describe('http:// proxy mounts: upstream connections', () => {
  const get = async (p: string, init?: RequestInit) => {
    const r = await fetch(srv.url(p), init);
    return { status: r.status, text: await r.text() };
  };

  it('keeps the upstream connection alive and reuses it for request after request', async () => {
    expect(await get('/keep/warm')).toEqual({ status: 200, text: 'ok' });
    const before = keepConnections;
    for (let i = 0; i < 5; i++) expect(await get(`/keep/n${i}`)).toEqual({ status: 200, text: 'ok' });
    expect(keepConnections).toBe(before);
  });

  it('opens a new connection when the upstream closed its kept one between requests, and sends the request once', async () => {
    expect(await get('/keep/warm')).toEqual({ status: 200, text: 'ok' });
    const closed = keepLastClosed;
    expect(await get('/keep/close-after')).toEqual({ status: 200, text: 'ok' });
    await until(() => keepLastClosed > closed, 'the upstream to close the kept connection');
    const before = keepConnections;
    expect(await get('/keep/after-close')).toEqual({ status: 200, text: 'ok' });
    expect(keepConnections).toBe(before + 1);
    expect(keepArrivals.get('GET /after-close')).toBe(1);
  });

  it('sends an idempotent request again on a fresh connection when a reused one is closed under it', async () => {
    expect(await get('/keep/warm')).toEqual({ status: 200, text: 'ok' });
    expect(await get('/keep/flaky-get')).toEqual({ status: 200, text: 'ok' });
    expect(keepArrivals.get('GET /flaky-get')).toBe(2);
  });

  it('never sends a POST twice: a reused connection closed under it is answered 502', async () => {
    expect(await get('/keep/warm')).toEqual({ status: 200, text: 'ok' });
    expect((await get('/keep/flaky-post', { method: 'POST' })).status).toBe(502);
    expect((await get('/keep/flaky-post-body', { method: 'POST', body: 'data' })).status).toBe(502);
    expect(codes()).toContain('TSWS_ERR_PROXY_UPSTREAM');
    // The upstream is still reachable afterwards; each POST reached it exactly once.
    expect(await get('/keep/after-post')).toEqual({ status: 200, text: 'ok' });
    expect(keepArrivals.get('POST /flaky-post')).toBe(1);
    expect(keepArrivals.get('POST /flaky-post-body')).toBe(1);
  });
});

describe('http:// proxy mounts: websockets', () => {
  it('bridges messages both ways, with the subprotocol, path, query and forwarded headers', async () => {
    const c = await TestClient.open(srv.wsUrl('/up/chat/room?id=7'), ['nope', 'chat']);
    expect(c.ws.protocol).toBe('chat');
    expect(wsSeen?.url).toBe('/app/chat/room?id=7');
    expect(wsSeen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(wsSeen?.headers['x-forwarded-host']).toBe(`127.0.0.1:${srv.port()}`);
    c.send('hello');
    expect(await c.nextText()).toBe('hello');
    const blob = crypto.randomBytes(200_000);
    c.send(blob);
    const back = await c.next();
    expect(back.isBinary).toBe(true);
    expect(back.data.equals(blob)).toBe(true);
    await c.close();
  });

  it('closes the client when the upstream closes, with its code and reason', async () => {
    const c = await TestClient.open(srv.wsUrl('/up/chat'), 'chat');
    c.send('close-me');
    expect(await c.closed).toEqual({ code: 4001, reason: 'bye' });
  });

  it('closes the upstream when the client closes, with its code', async () => {
    const c = await TestClient.open(srv.wsUrl('/up/chat'), 'chat');
    const before = wsClosedWith.length;
    c.ws.close(4002, 'client done');
    await c.closed;
    await until(() => wsClosedWith.length > before, 'the upstream to see the close');
    expect(wsClosedWith.at(-1)).toEqual({ code: 4002, reason: 'client done' });
  });

  it('stops reading from the upstream while the client does not read, then delivers every message', async () => {
    const c = await TestClient.open(srv.wsUrl('/up/chat'), 'chat');
    c.ws.pause();
    c.send('flood');
    expect(await settled(() => flooded)).toBeLessThan(STREAM_BLOCKS);
    c.ws.resume();
    for (let i = 0; i < STREAM_BLOCKS; i++) expect((await c.next()).data.length).toBe(STREAM_BLOCK);
    await c.close();
  });

  it('closes a client that runs more than 4 MiB ahead of an upstream that stopped reading, with 1013', async () => {
    const c = await TestClient.open(srv.wsUrl('/up/chat'), 'chat');
    c.send('stop-reading');
    // 32 MiB: far more than the kernel's socket buffers between tsws and the upstream can absorb.
    const block = Buffer.alloc(1024 * 1024, 3);
    for (let i = 0; i < 32 && c.ws.readyState === WebSocket.OPEN; i++) c.send(block);
    expect((await c.closed).code).toBe(1013);
    expect(codes()).toContain('TSWS_ERR_PROXY_WS_BACKLOG');
  });

  it('refuses the upgrade with 502 when the upstream is down', async () => {
    const ws = new WebSocket(srv.wsUrl('/down/x'));
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(502);
  });
});
