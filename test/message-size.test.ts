import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient } from './helpers/ws-client.ts';

/**
 * lws's rx_buffer_size is a receive piece size, not a message limit: lws hands
 * a longer message to the plugin in pieces and the connection lives. tsws
 * delivers whole messages unless a protocol asks for pieces
 * (receiveFragments), and the limit is ws-max-message-size / maxMessageSize.
 */
const PLUGINS = {
  'pieces.ts': `import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({ apiVersion: 1, protocols: [
  defineProtocol({
    name: 'pieces', rxBufferSize: 10, receiveFragments: true,
    session: () => ({ got: [] as { data: string; first: boolean; final: boolean; remaining: number; isBinary: boolean }[], reply: '' }),
    callbacks: {
      receive(conn, data, isBinary, f) {
        const s = conn.session;
        s.got.push({ data: data.toString(), first: f.first, final: f.final, remaining: f.remaining, isBinary });
        if (!f.final) return;
        // Long messages: only the count and the sizes, or the reply would be huge.
        s.reply = JSON.stringify(s.got.length > 4 ? { count: s.got.length, sizes: [...new Set(s.got.map((g) => g.data.length))] } : s.got);
        s.got = [];
        conn.requestWritable();
      },
      writable(conn) { conn.write(conn.session.reply); },
    },
  }),
  defineProtocol({
    name: 'whole', rxBufferSize: 10,
    session: () => ({ reply: '' }),
    callbacks: {
      receive(conn, data, _isBinary, f) { conn.session.reply = JSON.stringify({ size: data.length, ...f }); conn.requestWritable(); },
      writable(conn) { conn.write(conn.session.reply); },
    },
  }),
  defineProtocol({ name: 'small', maxMessageSize: 100, callbacks: { receive() {} } }),
] });
`,
};

let srv: Running;
/** Vhosts a and b share one listener (port 0, one interface): the Host header picks b. */
const open = (vhost: string, protocol: string) => TestClient.open(srv.wsUrl('/', vhost), protocol, { headers: { host: vhost } });
beforeAll(async () => {
  const dir = makeConfigDir({
    conf: { global: { 'ws-max-message-size': String(2 * 1024 * 1024) } },
    vhosts: {
      site: [
        { name: 'a', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'dumb-increment-protocol': {}, 'lws-status': {}, pieces: {}, whole: {}, small: {}, echo: {} }] },
        { name: 'b', port: '0', interface: '127.0.0.1', 'ws-max-message-size': '1000', 'ws-protocols': [{ pieces: {}, small: {}, echo: { 'ws-max-message-size': '5000' } }] },
      ],
    },
    plugins: PLUGINS,
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

describe("lws's test page messages keep the connection open", () => {
  it('dumb-increment-protocol takes 9000 bytes ("Send junk", rx 4096 in lws) and still obeys reset', async () => {
    const c = await open('a', 'dumb-increment-protocol');
    const counted = await c.until((m) => Number(m.text) >= 2);
    c.send('a'.repeat(9000));
    c.send('reset\n');
    // Every count before the reset is higher; the first lower one is the reset, read after the junk.
    await c.until((m) => Number(m.text) < Number(counted.text));
    // Our close frame is read after both messages on the same stream: a 1009 for the junk would come first.
    expect(await c.close(1000)).toMatchObject({ code: 1000 });
  });

  it('lws-status takes the ~30 KB messages of "Test pmd" (rx 512 in lws) and keeps sending the list', async () => {
    const c1 = await open('a', 'lws-status');
    await c1.next();
    c1.send(JSON.stringify({ RequestType: 'DDoS', blob: 'i'.repeat(3000) }));
    c1.send(JSON.stringify({ RequestType: 'SendImage', blob: '/'.repeat(30_000) }));
    const c2 = await open('a', 'lws-status');
    await c1.until((m) => (JSON.parse(m.text) as { conns: unknown[] }).conns.length === 2);
    expect(await c1.close(1000)).toMatchObject({ code: 1000 });
    await c2.close();
  });
});

describe('receiveFragments: lws rx_buffer_size pieces (lws_is_first_fragment, lws_is_final_fragment, lws_remaining_packet_payload)', () => {
  it('hands "hello world" to a protocol with rxBufferSize 10 as 10 + 1 bytes', async () => {
    const c = await open('a', 'pieces');
    c.send('hello world');
    expect(JSON.parse(await c.nextText())).toEqual([
      { data: 'hello worl', first: true, final: false, remaining: 1, isBinary: false },
      { data: 'd', first: false, final: true, remaining: 0, isBinary: false },
    ]);
    c.send(Buffer.from('0123456789'));
    expect(JSON.parse(await c.nextText())).toEqual([{ data: '0123456789', first: true, final: true, remaining: 0, isBinary: true }]);
    c.send('x'.repeat(20_005));
    expect(JSON.parse(await c.nextText())).toEqual({ count: 2001, sizes: [10, 5] });
    await c.close();
  });

  it('without receiveFragments, rxBufferSize has no effect (whole messages) and the loader says so', async () => {
    expect(srv.warnings.map((w) => w.code)).toContain('TSWS_WARN_PLUGIN_RX_BUFFER_UNUSED');
    const c = await open('a', 'whole');
    c.send('hello world');
    expect(JSON.parse(await c.nextText())).toEqual({ size: 11, first: true, final: true, remaining: 0 });
    await c.close();
  });
});

describe('maxMessageSize and ws-max-message-size: what closes with 1009', () => {
  const closeCode = async (vhost: string, protocol: string, size: number) => {
    const c = await open(vhost, protocol);
    c.send(Buffer.alloc(size, 0x61));
    return (await c.closed).code;
  };

  it("a plugin's maxMessageSize lowers the vhost's limit", async () => {
    expect(await closeCode('a', 'small', 101)).toBe(1009);
    expect(await closeCode('a', 'echo', 1024 * 1024 + 1)).toBe(1009);
  });

  it('the global ws-max-message-size caps every protocol of a vhost without its own', async () => {
    const c = await open('a', 'pieces');
    c.send(Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect(JSON.parse(await c.nextText())).toMatchObject({ count: 209716 });
    c.send(Buffer.alloc(2 * 1024 * 1024 + 1, 0x61));
    expect((await c.closed).code).toBe(1009);
  });

  it("a vhost's ws-max-message-size overrides the global one, a lower plugin limit still wins, and a protocol's entry sets its own", async () => {
    const c = await open('b', 'pieces');
    c.send('y'.repeat(1000));
    expect(JSON.parse(await c.nextText())).toMatchObject({ count: 100 });
    c.send('y'.repeat(1001));
    expect((await c.closed).code).toBe(1009);
    expect(await closeCode('b', 'small', 101)).toBe(1009);
    // The ws-protocols entry's own ws-max-message-size is the operator's word for that protocol on that vhost: above both.
    const e = await open('b', 'echo');
    e.send('e'.repeat(5000));
    expect((await e.nextText()).length).toBe(5000);
    await e.close();
    expect(await closeCode('b', 'echo', 5001)).toBe(1009);
    const logged = srv.logs.find((l) => l.code === 'TSWS_ERR_MESSAGE_TOO_BIG' && l.msg.includes('1001-byte'));
    expect(logged?.msg).toContain('over its 1000-byte limit');
  });
});

describe('the transport cap follows the message limit, not rxBufferSize', () => {
  it('a listener whose only protocol reads 10-byte pieces still takes a 150 KB message', async () => {
    const dir = makeConfigDir({
      vhosts: { site: [{ name: 'c', port: '0', interface: '127.0.0.1', 'ws-max-message-size': '200000', 'ws-protocols': [{ pieces: {} }] }] },
      plugins: PLUGINS,
    });
    const own = await startInProcess(dir);
    try {
      const c = await TestClient.open(own.wsUrl(), 'pieces');
      c.send('z'.repeat(150_000));
      expect(JSON.parse(await c.nextText())).toEqual({ count: 15_000, sizes: [10] });
      await c.close();
    } finally {
      await own.stop();
    }
  });
});
