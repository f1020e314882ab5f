import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { isTswsError } from '../server/base/errors.ts';
import { TestClient, socketOf, upgradeStatus } from './helpers/ws-client.ts';

/** Test plugins, plain JS: the loader needs no types. */
const PLUGINS = {
  'rules.js': `
export default { apiVersion: 1, protocols: [
  { name: 'double', callbacks: {
      receive(conn) { conn.requestWritable(); },
      writable(conn) { conn.write('one'); conn.write('two'); } } },
  { name: 'outside', callbacks: {
      receive(conn) { conn.write('from receive'); } } },
  { name: 'throws', callbacks: {
      receive(conn, data) { if (data.toString() === 'boom') throw new Error('kaboom'); conn.session.q.push(data); conn.requestWritable(); },
      writable(conn) { const m = conn.session.q.shift(); if (m) conn.write(m); } },
    session: () => ({ q: [] }) },
  { name: 'async-throws', callbacks: {
      async receive() { await Promise.resolve(); throw new Error('later'); } } },
  { name: 'init-throws', callbacks: { init() { throw new Error('no database'); } } },
  { name: 'order', callbacks: {
      init(vhost) { return { events: [] }; },
      receive(conn, data) {
        const ev = conn.vhost.state.events;
        if (data.toString() === 'events') { conn.session.reply = JSON.stringify(ev); conn.requestWritable(); return; }
        ev.push('receive:start'); conn.close(4000, 'bye'); ev.push('receive:end');
      },
      writable(conn) { if (conn.session.reply) { conn.write(conn.session.reply); conn.session.reply = undefined; } },
      closed(conn, code, reason) { conn.vhost.state.events.push('closed:' + code + ':' + reason); } },
    session: () => ({}) },
  { name: 'timers', callbacks: {
      init() { return { afterClose: 0 }; },
      established(conn) { conn.setInterval(5, () => { if (!conn.isOpen) conn.vhost.state.afterClose++; }); },
      receive(conn) { conn.session.reply = String(conn.vhost.state.afterClose); conn.requestWritable(); },
      writable(conn) { if (conn.session.reply) { conn.write(conn.session.reply); conn.session.reply = undefined; } } },
    session: () => ({}) },
  { name: 'flood', maxMessageSize: 64,
    session: () => ({ sent: 0, want: 0, reply: undefined }),
    callbacks: {
      init() { return { writables: 0, maxBufferedAtEntry: 0, victim: undefined }; },
      receive(conn, data) {
        const st = conn.vhost.state;
        const [cmd, n] = data.toString().split(' ');
        if (cmd === 'go') { conn.session.want = Number(n); st.victim = conn; conn.requestWritable(); return; }
        conn.session.reply = JSON.stringify({ writables: st.writables, maxBufferedAtEntry: st.maxBufferedAtEntry, victimBuffered: st.victim ? st.victim.bufferedAmount : 0 });
        conn.requestWritable();
      },
      writable(conn) {
        const s = conn.session, st = conn.vhost.state;
        if (s.reply) { conn.write(s.reply); s.reply = undefined; return; }
        if (s.sent >= s.want) return;
        st.writables++;
        st.maxBufferedAtEntry = Math.max(st.maxBufferedAtEntry, conn.bufferedAmount);
        const chunk = Buffer.alloc(16 * 1024, 120);
        chunk.write(String(s.sent).padStart(8, '0'));
        conn.write(chunk, true);
        if (++s.sent < s.want) conn.requestWritable();
      } } },
] };
`,
};

const PROTOCOLS = ['double', 'outside', 'throws', 'async-throws', 'order', 'timers', 'flood'];
const vhostsWith = (protocols: readonly string[]) => [{ name: 'localhost', port: '0', 'ws-protocols': [Object.fromEntries(protocols.map((p) => [p, {}]))] }];
const configWith = (protocols: readonly string[]) => makeConfigDir({ plugins: PLUGINS, vhosts: { x: vhostsWith(protocols) } });

let srv: Running;
beforeAll(async () => {
  srv = await startInProcess(configWith(PROTOCOLS));
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const codes = () => srv.logs.map((l) => l.code).filter(Boolean);

describe('one write per writable', () => {
  it('a second write in one writable throws "Illegal back-to-back write": that connection closes 1011, others keep working', async () => {
    const bystander = await TestClient.open(srv.wsUrl(), 'throws');
    const c = await TestClient.open(srv.wsUrl(), 'double');
    c.send('go');
    expect((await c.next()).text).toBe('one');
    const closed = await c.closed;
    expect(closed.code).toBe(1011);
    expect(codes()).toContain('TSWS_ERR_BACK_TO_BACK_WRITE');
    const line = srv.logs.find((l) => l.code === 'TSWS_ERR_BACK_TO_BACK_WRITE');
    expect(line?.msg).toContain('Illegal back-to-back write');
    expect(line?.protocol).toBe('double');
    expect(c.received.map((m) => m.text)).toEqual(['one']);
    bystander.send('still here');
    expect(await bystander.nextText()).toBe('still here');
    await bystander.close();
  });

  it('a write from any other callback throws TSWS_ERR_WRITE_OUTSIDE_WRITABLE', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'outside');
    c.send('x');
    expect((await c.closed).code).toBe(1011);
    const line = srv.logs.find((l) => l.code === 'TSWS_ERR_WRITE_OUTSIDE_WRITABLE');
    expect(line?.msg).toMatch(/wrote from receive/);
    expect(c.received).toEqual([]);
  });

  it('writable waits while the peer is not reading, and every message arrives in order after it resumes', async () => {
    const N = 2500; // 40 MB: far more than loopback socket buffers hold
    const victim = new TestClient(srv.wsUrl(), 'flood');
    await victim.opened;
    const raw = socketOf(victim);
    raw.pause();
    victim.send(`go ${N}`);
    const observer = await TestClient.open(srv.wsUrl(), 'flood');
    let stats: { writables: number; maxBufferedAtEntry: number; victimBuffered: number };
    do {
      observer.send('stats');
      stats = JSON.parse(await observer.nextText());
    } while (stats.victimBuffered <= 64 * 1024);
    // choked: writable has stopped short of the total, never entered over the threshold
    expect(stats.writables).toBeLessThan(N);
    expect(stats.maxBufferedAtEntry).toBeLessThanOrEqual(64 * 1024);
    raw.resume();
    for (let i = 0; i < N; i++) {
      const m = await victim.next();
      expect(m.data.subarray(0, 8).toString()).toBe(String(i).padStart(8, '0'));
    }
    observer.send('stats');
    stats = JSON.parse(await observer.nextText());
    expect(stats.writables).toBe(N);
    expect(stats.maxBufferedAtEntry).toBeLessThanOrEqual(64 * 1024);
    await victim.close();
    await observer.close();
  });
});

describe('callback isolation', () => {
  it('a throwing receive closes only its own connection with 1011 and is logged with plugin and protocol', async () => {
    const a = await TestClient.open(srv.wsUrl(), 'throws');
    const b = await TestClient.open(srv.wsUrl(), 'throws');
    a.send('boom');
    expect((await a.closed).code).toBe(1011);
    const line = srv.logs.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW' && l.protocol === 'throws');
    expect(line?.msg).toMatch(/receive threw \(kaboom\)/);
    b.send('ok');
    expect(await b.nextText()).toBe('ok');
    await b.close();
  });

  it('a rejected async callback is isolated the same way', async () => {
    const a = await TestClient.open(srv.wsUrl(), 'async-throws');
    a.send('x');
    expect((await a.closed).code).toBe(1011);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW' && l.protocol === 'async-throws')).toBe(true);
  });

  it('an init that throws at start stops start-up, naming the protocol and vhost', async () => {
    const err = await startInProcess(configWith(['throws', 'init-throws'])).then(() => undefined, (e: unknown) => e);
    expect(isTswsError(err, 'TSWS_ERR_START_PROTOCOLS_DISABLED')).toBe(true);
    expect((err as Error).message).toMatch(/1 protocol\(s\) failed their init \("init-throws" on vhost "localhost": no database\)/);
  });

  it('an init that throws at a reload disables that protocol on that vhost only', async () => {
    const dir = configWith(['throws']);
    const s = await startInProcess(dir);
    fs.writeFileSync(path.join(dir, 'conf.d/x'), JSON.stringify({ vhosts: vhostsWith(['throws', 'init-throws']) }));
    await s.reload();
    expect(s.logs.find((l) => l.code === 'TSWS_ERR_PLUGIN_INIT_FAILED')?.msg).toMatch(/"init-throws": init threw \(no database\); the protocol is disabled/);
    expect(await upgradeStatus(s.wsUrl(), 'init-throws')).toBe(400);
    expect(await upgradeStatus(s.wsUrl(), 'throws')).toBe(101);
    await s.stop();
  });
});

describe('close and timers', () => {
  it('close() inside receive runs closed only after receive returned', async () => {
    const a = await TestClient.open(srv.wsUrl(), 'order');
    a.send('x');
    expect(await a.closed).toEqual({ code: 4000, reason: 'bye' });
    const b = await TestClient.open(srv.wsUrl(), 'order');
    b.send('events');
    expect(JSON.parse(await b.nextText())).toEqual(['receive:start', 'receive:end', 'closed:4000:bye']);
    await b.close();
  });

  it('rejects close codes a server may not send', async () => {
    const { checkCloseArgs } = await import('../server/session/close-codes.ts');
    expect(checkCloseArgs(1006, '')).toMatch(/may not be sent/);
    expect(checkCloseArgs(1000, 'x'.repeat(124))).toMatch(/123 bytes/);
    expect(checkCloseArgs(4321, 'fine')).toBeUndefined();
  });

  it('connection timers stop when the connection closes', async () => {
    const a = await TestClient.open(srv.wsUrl(), 'timers');
    await a.close();
    // let several 5 ms intervals pass: a timer that outlived its connection would count them
    await new Promise((r) => setTimeout(r, 100));
    const b = await TestClient.open(srv.wsUrl(), 'timers');
    b.send('count');
    expect(await b.nextText()).toBe('0');
    await b.close();
  });
});
