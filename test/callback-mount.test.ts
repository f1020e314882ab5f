import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { decodeChunked, rawRequest } from './helpers/raw-http.ts';
import { eventually } from './helpers/ws-client.ts';

/** One protocol, behaviour chosen by the path below the mount. Plain JS: the loader needs no types. */
const PLUGIN = `
import crypto from 'node:crypto';
const CHUNK = Buffer.alloc(64 * 1024, 97);
export default { apiVersion: 1, protocols: [{
  name: 'web', httpBodyLimit: 8 * 1024 * 1024,
  session: () => ({ step: 0, chunks: 0, hash: crypto.createHash('sha256'), reply: '' }),
  callbacks: {
    init: () => ({ closed: [], streamWritables: 0, maxChunks: 0 }),
    checkAccess(req) {
      if (req.pathInMount === '/private') return req.headers.authorization === 'Basic dTpw' ? 'allow' : { refuse: 401 };
      if (req.pathInMount === '/forbidden') return { refuse: 403, reason: 'not for you' };
      if (req.pathInMount === '/slow-allow') return new Promise((r) => setTimeout(() => r('allow'), 10));
      return 'allow';
    },
    http(txn) {
      const p = txn.request.pathInMount;
      if (p === '/outside') { txn.writeHead(200); return; }
      if (p === '/throw') throw new Error('http blew up');
      if (txn.request.method === 'POST') return; // answered at httpBodyCompletion
      if (p === '/stats') txn.session.reply = JSON.stringify(txn.vhost.state);
      txn.requestWritable();
    },
    httpBody(txn, chunk) { txn.session.chunks++; txn.session.hash.update(chunk); },
    httpBodyCompletion(txn) {
      txn.vhost.state.maxChunks = Math.max(txn.vhost.state.maxChunks, txn.session.chunks);
      txn.session.reply = JSON.stringify({ bytes: txn.bodyReceived, chunks: txn.session.chunks, sha256: txn.session.hash.digest('hex') });
      txn.requestWritable();
    },
    httpWritable(txn) {
      const s = txn.session, p = txn.request.pathInMount;
      if (p === '/double') { txn.writeHead(200, { 'content-type': 'text/plain' }); txn.write('again'); return; }
      if (p === '/stream') {
        // chunked: headers, then 200 chunks of 64 KiB, one per writable
        if (s.step === 0) txn.writeHead(200, { 'content-type': 'application/octet-stream' });
        else { txn.vhost.state.streamWritables++; if (s.step <= 200) txn.write(CHUNK); else txn.end(); }
        s.step++; if (txn.isOpen) txn.requestWritable(); return;
      }
      if (p === '/drip') {
        // a slow response: one chunk per timer tick, until the client goes away
        if (s.step++ === 0) txn.writeHead(200); else txn.write('drip\\n');
        txn.setTimeout(5, () => txn.requestWritable()); return;
      }
      if (p === '/short') { if (s.step++ === 0) { txn.writeHead(200, { 'content-length': '10' }); txn.requestWritable(); } else txn.end('only5'); return; }
      if (p === '/empty') { txn.writeHead(204, {}, { end: true }); return; }
      // the seed's CreateHeaders pattern: headers in one writable, the JSON body in the next
      const body = s.reply || JSON.stringify({ id: 1, path: p, query: txn.request.query, method: txn.request.method });
      if (s.step++ === 0) { txn.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-extra': 'yes' }); txn.requestWritable(); }
      else txn.end(body);
    },
    httpClosed(txn, how) { txn.vhost.state.closed.push(txn.request.pathInMount + ':' + how); },
  },
}] };
`;

let srv: Running;
beforeAll(async () => {
  const dir = makeConfigDir({
    plugins: { 'web.js': PLUGIN },
    vhosts: { x: [{ name: 'localhost', port: '0', mounts: [{ mountpoint: '/app', origin: 'callback://web' }], 'ws-protocols': [{ web: {} }] }] },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const stats = async () => (await (await fetch(srv.url('/app/stats'))).json()) as { closed: string[]; streamWritables: number; maxChunks: number };

describe('callback:// mounts: the HTTP callback state machine', () => {
  it('answers with headers in one writable and the body in the next (the seed pattern)', async () => {
    const r = await fetch(srv.url('/app/thing?x=1'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-extra')).toBe('yes');
    expect(r.headers.get('server')).toBe('tsws');
    expect(await r.json()).toEqual({ id: 1, path: '/thing', query: 'x=1', method: 'GET' });
  });

  it('streams a request body to the plugin chunk by chunk', async () => {
    const payload = crypto.randomBytes(5 * 1024 * 1024);
    const r = await fetch(srv.url('/app/upload'), { method: 'POST', body: payload });
    const got = (await r.json()) as { bytes: number; chunks: number; sha256: string };
    expect(got.bytes).toBe(payload.length);
    expect(got.sha256).toBe(crypto.createHash('sha256').update(payload).digest('hex'));
    expect(got.chunks).toBeGreaterThan(1);
  });

  it('refuses a body over the protocol limit with 413, declared or streamed', async () => {
    const declared = await rawRequest(srv.port(), `POST /app/upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n`);
    expect(declared.status).toBe(413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port(), path: '/app/upload', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 9; i++) req.write(chunk);
      req.end();
    });
    expect(streamed).toBe(413);
  });

  it('streams a chunked response one write per writable, waiting while the client does not read', async () => {
    const sock = net.connect(srv.port(), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    sock.write('GET /app/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    let s = await stats();
    // paused: the server fills the socket buffers, then stops calling httpWritable
    let seen = -1;
    for (;;) {
      s = await stats();
      if (s.streamWritables === seen) break;
      seen = s.streamWritables;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(s.streamWritables).toBeLessThan(200);
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.resume();
    await eventually(() => Buffer.concat(chunks).includes('\r\n0\r\n\r\n'), 'the final chunk');
    sock.destroy();
    const raw = Buffer.concat(chunks);
    const split = raw.indexOf('\r\n\r\n');
    expect(/transfer-encoding: chunked/i.test(raw.subarray(0, split).toString('latin1'))).toBe(true);
    const body = decodeChunked(raw.subarray(split + 4));
    expect(body.length).toBe(200 * 64 * 1024);
    expect(body.every((b) => b === 97)).toBe(true);
    expect((await stats()).streamWritables).toBe(201);
  });

  it('a second write in one httpWritable throws "Illegal back-to-back write" and cuts only that response', async () => {
    await expect(fetch(srv.url('/app/double')).then((r) => r.text())).rejects.toThrow();
    const line = srv.logs.find((l) => l.code === 'TSWS_ERR_BACK_TO_BACK_WRITE');
    expect(line?.msg).toContain('Illegal back-to-back write');
    expect((await fetch(srv.url('/app/ok'))).status).toBe(200);
    await eventually(() => srv.logs.some((l) => l.code === 'TSWS_ERR_BACK_TO_BACK_WRITE'), 'logged');
    expect((await stats()).closed).toContain('/double:aborted');
  });

  it('a write outside httpWritable, or a throwing callback, gets 500 with a coded log line', async () => {
    expect((await fetch(srv.url('/app/outside'))).status).toBe(500);
    expect(srv.logs.find((l) => l.code === 'TSWS_ERR_WRITE_OUTSIDE_WRITABLE')?.msg).toMatch(/wrote from http;/);
    expect((await fetch(srv.url('/app/throw'))).status).toBe(500);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW' && /http blew up/.test(l.msg))).toBe(true);
  });

  it('a body shorter than its Content-Length closes the connection with TSWS_ERR_HTTP_LENGTH_MISMATCH', async () => {
    await expect(fetch(srv.url('/app/short')).then((r) => r.text())).rejects.toThrow();
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_HTTP_LENGTH_MISMATCH')).toBe(true);
  });

  it('ends with writeHead(..., { end: true }) and answers HEAD without a body', async () => {
    expect((await fetch(srv.url('/app/empty'))).status).toBe(204);
    const head = await rawRequest(srv.port(), 'HEAD /app/thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head.status).toBe(200);
    expect(head.head).toMatch(/content-length: \d+/i);
    expect(head.body).toBe('');
  });

  it('checks access before http: 401 with WWW-Authenticate, 403, async allow', async () => {
    const r401 = await fetch(srv.url('/app/private'));
    expect(r401.status).toBe(401);
    expect(r401.headers.get('www-authenticate')).toBe('Basic realm="tsws"');
    expect((await fetch(srv.url('/app/private'), { headers: { authorization: 'Basic dTpw' } })).status).toBe(200);
    const r403 = await fetch(srv.url('/app/forbidden'));
    expect(r403.status).toBe(403);
    expect(await r403.text()).toContain('not for you');
    expect((await fetch(srv.url('/app/slow-allow'))).status).toBe(200);
  });

  it('tells the plugin when a client disconnects mid-request or mid-response, and writes nothing after', async () => {
    const up = net.connect(srv.port(), '127.0.0.1');
    await new Promise((r) => up.once('connect', r));
    up.write('POST /app/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial');
    await new Promise((r) => setTimeout(r, 20));
    up.destroy();
    const down = net.connect(srv.port(), '127.0.0.1');
    await new Promise((r) => down.once('connect', r));
    down.write('GET /app/drip HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => down.once('data', r));
    down.destroy();
    let closed: string[] = [];
    for (let i = 0; i < 200 && !(closed.includes('/upload:aborted') && closed.includes('/drip:aborted')); i++) {
      closed = (await stats()).closed;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(closed).toContain('/upload:aborted');
    expect(closed).toContain('/drip:aborted');
    expect(srv.logs.filter((l) => l.level >= 50 && l.code !== 'TSWS_ERR_BACK_TO_BACK_WRITE' && l.code !== 'TSWS_ERR_WRITE_OUTSIDE_WRITABLE' && l.code !== 'TSWS_ERR_PLUGIN_CALLBACK_THREW' && l.code !== 'TSWS_ERR_HTTP_LENGTH_MISMATCH')).toEqual([]);
  });
});
