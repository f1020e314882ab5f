/** @module The protocol kit on HTTP: transactions under the protocol's callback:// mount, bodies, an asynchronous access check, backpressure, a client that leaves, a failing callback. */
import { afterEach, describe, expect, it } from 'vitest';
import { defineProtocol } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from './index.ts';

const kits: ProtocolKit<unknown, unknown>[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

interface Txn {
  reply: string | undefined;
  headSent: boolean;
  readonly body: string[];
  /** "/stream": the chunks still to write, one per 10 ms tick. */
  ticks: number;
}

/**
 * GET /echo answers what it was asked; POST /echo answers its body; GET
 * /stream writes five chunks, one per 10 ms tick; GET /boom throws. Only
 * "Authorization: let me in" passes, decided asynchronously.
 */
const api = defineProtocol<undefined, Txn>({
  name: 'api',
  session: () => ({ reply: undefined, headSent: false, body: [], ticks: 0 }),
  callbacks: {
    checkAccess: async (req) => (req.headers.authorization === 'let me in' ? 'allow' : { refuse: 401, reason: 'say the word' }),
    http(txn) {
      const { method, pathInMount, query } = txn.request;
      if (pathInMount === '/boom') throw new Error('boom on purpose');
      if (pathInMount === '/stream') txn.session.ticks = 5;
      if (method === 'GET') txn.session.reply = `${method} ${txn.request.mountpoint} ${pathInMount} ${query}`;
      txn.requestWritable();
    },
    httpBody(txn, chunk) {
      txn.session.body.push(chunk.toString());
    },
    httpBodyCompletion(txn) {
      txn.session.reply = `got ${txn.session.body.join('')}`;
      txn.requestWritable();
    },
    httpWritable(txn) {
      const s = txn.session;
      if (!s.headSent) {
        s.headSent = true;
        txn.writeHead(200, { 'content-type': 'text/plain', 'x-kit': 'yes' });
        txn.requestWritable();
      } else if (s.ticks > 0) {
        txn.write(`chunk ${s.ticks--};`);
        if (s.ticks > 0) txn.setTimeout(10, () => txn.requestWritable());
        else txn.requestWritable();
      } else if (s.reply !== undefined) {
        txn.end(s.reply);
      }
    },
  },
});

const allowed = { authorization: 'let me in' };
const start = async () => {
  const k = await testProtocol(api, { vhost: { mounts: [{ mountpoint: '/api', origin: 'callback://api' }] } });
  kits.push(k as ProtocolKit<unknown, unknown>);
  return k;
};

describe('HTTP under the protocol\'s callback:// mount', () => {
  it('answers a GET once the asynchronous access check allowed it, with the status, headers and body written', async () => {
    const kit = await start();
    const res = kit.request({ path: '/api/echo', query: { a: '1' }, headers: allowed });
    expect(res.status).toBeUndefined();
    await kit.settle();
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'text/plain', 'x-kit': 'yes' });
    expect(res.text).toBe('GET /api /echo a=1');
    expect(res.ended).toBe(true);
  });

  it('hands the body to httpBody and answers at httpBodyCompletion', async () => {
    const kit = await start();
    const res = kit.request({ method: 'POST', path: '/api/echo', headers: allowed, body: 'hello body' });
    await kit.settle();
    expect(res.text).toBe('got hello body');
  });

  it('refuses with the access check\'s 401 and a WWW-Authenticate header', async () => {
    const kit = await start();
    const res = kit.request({ path: '/api/echo' });
    await kit.settle();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="tsws"');
    expect(res.text).toMatch(/say the word/);
  });

  it('answers 404 outside the mount', async () => {
    const kit = await start();
    expect(kit.request({ path: '/elsewhere' }).status).toBe(404);
  });

  it('streams on the clock, waits while the client does not read, and goes on once it does', async () => {
    const kit = await start();
    const res = kit.request({ path: '/api/stream', headers: allowed });
    await kit.settle();
    expect(res.text).toBe('chunk 5;');
    res.hold();
    kit.advance(10);
    // Written, but not read: the write reported backpressure and httpWritable waits for the client.
    expect(res.text).toBe('chunk 5;');
    kit.advance(100);
    res.release();
    expect(res.text).toBe('chunk 5;chunk 4;chunk 3;');
    kit.advance(30);
    expect(res.text).toBe('chunk 5;chunk 4;chunk 3;chunk 2;chunk 1;GET /api /stream ');
    expect(res.ended).toBe(true);
  });

  it('tells the plugin when the client leaves mid-response, and cancels its timers', async () => {
    const kit = await start();
    const res = kit.request({ path: '/api/stream', headers: allowed });
    await kit.settle();
    expect(kit.clock.pending).toBe(1);
    res.abort();
    expect(res.aborted).toBe(true);
    expect(kit.clock.pending).toBe(0);
  });

  it('answers 500 when a callback throws, and records TSWS_ERR_PLUGIN_CALLBACK_THREW for the transaction', async () => {
    const kit = await start();
    const res = kit.request({ path: '/api/boom', headers: allowed });
    await kit.settle();
    expect(res.status).toBe(500);
    expect(kit.errors).toEqual([expect.objectContaining({ code: 'TSWS_ERR_PLUGIN_CALLBACK_THREW', callback: 'http', txn: expect.any(Number) })]);
  });

  it('mounts a protocol with HTTP callbacks at "/" when the vhost names no mounts', async () => {
    const kit = await testProtocol(api);
    kits.push(kit as ProtocolKit<unknown, unknown>);
    const res = kit.request({ path: '/echo', headers: allowed });
    await kit.settle();
    expect(res.text).toBe('GET / /echo ');
  });
});
