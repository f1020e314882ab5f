import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess, type Running } from '../../test/helpers/in-process.ts';
import { killAll, runTsws, runTswsToEnd } from '../../test/helpers/process.ts';
import { rawRequest } from '../../test/helpers/raw-http.ts';
import { TestClient } from '../../test/helpers/ws-client.ts';

interface Stored { id: number; ts: number; packet: unknown }

function packetConfig(logDir: string, extra: Record<string, string> = {}) {
  return makeConfigDir({
    vhosts: { x: [{ name: 'localhost', port: '0', mounts: [{ mountpoint: '/formtest2', origin: 'callback://protocol-lws-packet' }],
      'ws-protocols': [{ 'protocol-lws-packet': { 'log-dir': logDir, ...extra } }] }] },
  });
}

let srv: Running;
let logDir: string;
beforeAll(async () => {
  logDir = makeConfigDir({});
  srv = await startInProcess(packetConfig(path.join(logDir, 'log'), { 'max-packet-size': '1000', retention: '500' }));
});
afterAll(async () => {
  await srv.stop();
  killAll();
  removeConfigDirs();
});

const post = (body: string, base = srv.url('/formtest2')) => fetch(base, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('protocol-lws-packet (Comlink v2)', () => {
  it('stores a posted packet and answers {"id": n} as JSON, ids consecutive', async () => {
    const r = await post('{"temp": 21.5}');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    const { id } = (await r.json()) as { id: number };
    expect((await (await post('[1,2,3]')).json())).toEqual({ id: id + 1 });
  });

  it('refuses malformed JSON with 400 and a JSON error, storing nothing', async () => {
    const before = ((await (await fetch(srv.url('/formtest2?since=0'))).json()) as { lastId: number }).lastId;
    for (const bad of ['{"temp": ', '', 'not json']) {
      const r = await post(bad);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/malformed JSON/);
    }
    expect(((await (await fetch(srv.url('/formtest2?since=0'))).json()) as { lastId: number }).lastId).toBe(before);
  });

  it('refuses a packet over max-packet-size with 413', async () => {
    expect((await post(JSON.stringify({ big: 'x'.repeat(2000) }))).status).toBe(413);
  });

  it('streams new packets to websocket clients live', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'protocol-lws-packet');
    const { id } = (await (await post('{"live": true}')).json()) as { id: number };
    const got = JSON.parse(await c.nextText()) as Stored;
    expect(got).toMatchObject({ id, packet: { live: true } });
    expect(typeof got.ts).toBe('number');
    await c.close();
  });

  it('resumes from an id while packets keep arriving: no gap, no duplicate', async () => {
    const base = ((await (await fetch(srv.url('/formtest2?since=0'))).json()) as { lastId: number }).lastId;
    for (let i = 0; i < 40; i++) await post(JSON.stringify({ seq: i }));
    const since = base + 10;
    const posting = (async () => {
      for (let i = 40; i < 200; i++) await post(JSON.stringify({ seq: i }));
    })();
    const c = await TestClient.open(srv.wsUrl(`/?since=${since}`), 'protocol-lws-packet');
    const ids: number[] = [];
    while (ids.at(-1) !== base + 200) ids.push((JSON.parse(await c.nextText()) as Stored).id);
    await posting;
    expect(ids).toEqual(Array.from({ length: base + 200 - since }, (_, i) => since + 1 + i));
    await c.close();
  });

  it('returns kept packets over HTTP with GET ?since=', async () => {
    const r = (await (await fetch(srv.url('/formtest2?since=0'))).json()) as { packets: Stored[]; lastId: number; firstId: number };
    expect(r.packets.length).toBeGreaterThan(0);
    expect(r.packets.map((p) => p.id)).toEqual(Array.from({ length: r.packets.length }, (_, i) => r.firstId + i));
    expect((await fetch(srv.url('/formtest2?since=abc'))).status).toBe(400);
    expect((await fetch(srv.url('/formtest2'), { method: 'DELETE' })).status).toBe(405);
  });

  it('stores only an accepted POST: a refused PUT/PATCH/DELETE body or a GET body is neither logged nor streamed', async () => {
    const lastId = async () => ((await (await fetch(srv.url('/formtest2?since=0'))).json()) as { lastId: number }).lastId;
    const before = await lastId();
    const c = await TestClient.open(srv.wsUrl(), 'protocol-lws-packet');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const r = await fetch(srv.url('/formtest2'), { method, body: JSON.stringify({ via: method }), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(405);
    }
    // fetch() will not send a GET body: a raw request does.
    const body = '{"via":"GET"}';
    const g = await rawRequest(srv.port(), `GET /formtest2?since=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(g.status).toBe(200);
    expect((JSON.parse(g.body) as { lastId: number }).lastId).toBe(before);
    expect(await lastId()).toBe(before);
    // The subscriber's first packet is the next POST: nothing refused was fanned out before it.
    const { id } = (await (await post('{"via":"POST"}')).json()) as { id: number };
    expect(id).toBe(before + 1);
    expect(JSON.parse(await c.nextText())).toMatchObject({ id, packet: { via: 'POST' } });
    await c.close();
  });

  it('tells a client resuming from before the kept window where the gap is', async () => {
    const dir = makeConfigDir({});
    const small = await startInProcess(packetConfig(path.join(dir, 'log'), { retention: '3' }));
    for (let i = 0; i < 8; i++) await post(String(i), small.url('/formtest2'));
    const c = await TestClient.open(small.wsUrl('/?since=1'), 'protocol-lws-packet');
    expect(JSON.parse(await c.nextText())).toMatchObject({ type: 'gap', from: 2, to: 5 });
    expect((JSON.parse(await c.nextText()) as Stored).id).toBe(6);
    await c.close();
    await small.stop();
  });
});

describe('protocol-lws-packet survives kill -9', () => {
  it('keeps every acknowledged packet and continues the ids after a crash between posts', async () => {
    const dir = makeConfigDir({});
    const conf = packetConfig(path.join(dir, 'log'));
    const first = runTsws(['-c', conf]);
    const [l1] = await first.ready;
    const url1 = `http://127.0.0.1:${l1?.port}/formtest2`;
    const acked: number[] = [];
    for (let i = 0; i < 5; i++) acked.push(((await (await post(JSON.stringify({ before: i }), url1)).json()) as { id: number }).id);
    first.kill('SIGKILL');
    await first.exited;
    const second = runTsws(['-c', conf]);
    const [l2] = await second.ready;
    const url2 = `http://127.0.0.1:${l2?.port}/formtest2`;
    const { id } = (await (await post('{"after": true}', url2)).json()) as { id: number };
    expect(id).toBe((acked.at(-1) ?? 0) + 1);
    const all = (await (await fetch(`${url2}?since=0`)).json()) as { packets: Stored[] };
    expect(all.packets.map((p) => p.packet)).toEqual([...[0, 1, 2, 3, 4].map((i) => ({ before: i })), { after: true }]);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(fs.existsSync(path.join(dir, 'log', 'localhost', 'packets.jsonl'))).toBe(true);
  });
});

describe('protocol-lws-packet: one server per log', () => {
  it('puts a relative log-dir under the config directory, refuses a second server on it (and --check says so), keeps the lock across SIGHUP, and takes over a dead holder\'s lock', async () => {
    // The default log-dir ("var/lws-packet"), started from another working directory.
    const conf = makeConfigDir({
      vhosts: { x: [{ name: 'localhost', port: '0', mounts: [{ mountpoint: '/formtest2', origin: 'callback://protocol-lws-packet' }], 'ws-protocols': [{ 'protocol-lws-packet': {} }] }] },
    });
    const elsewhere = makeConfigDir({});
    const file = path.join(conf, 'var/lws-packet/localhost/packets.jsonl');
    const first = runTsws(['-c', conf], { cwd: elsewhere });
    const [l1] = await first.ready;
    const url1 = `http://127.0.0.1:${l1?.port}/formtest2`;
    expect((await post('{"n": 1}', url1)).status).toBe(200);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(path.join(elsewhere, 'var'))).toBe(false);
    const pid = String(first.proc.pid);

    const second = runTsws(['-c', conf], { cwd: conf });
    expect(await second.exited).toBe(1);
    const refused = second.lines.find((l) => l.code === 'TSWS_ERR_FILE_LOCKED');
    expect(String(refused?.msg)).toContain(`in use by process ${pid}`);
    expect(second.lines.some((l) => l.event === 'ready')).toBe(false);

    const check = await runTswsToEnd(['-c', conf, '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(new RegExp(`error TSWS_ERR_FILE_LOCKED: .*packets\\.jsonl is in use by process ${pid}`));

    // A reload hands the writer, lock and all, to the new configuration.
    first.kill('SIGHUP');
    await first.waitFor((l) => l.event === 'reloaded');
    expect(first.lines.some((l) => l.code === 'TSWS_ERR_FILE_LOCKED' || l.code === 'TSWS_ERR_PLUGIN_INIT_FAILED')).toBe(false);
    expect(((await (await post('{"n": 2}', url1)).json()) as { id: number }).id).toBe(2);
    expect((await runTswsToEnd(['-c', conf, '--check'])).code).toBe(1);

    // A holder that died without unlocking leaves a stale lock: the next server takes it over.
    first.kill('SIGKILL');
    await first.exited;
    expect(fs.readFileSync(`${file}.lock`, 'utf8').trim()).toBe(pid);
    const third = runTsws(['-c', conf]);
    const [l3] = await third.ready;
    expect(((await (await post('{"n": 3}', `http://127.0.0.1:${l3?.port}/formtest2`)).json()) as { id: number }).id).toBe(3);
    third.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Stored).id)).toEqual([1, 2, 3]);
  });
});
