/** @module Cross-instance mirror fan-out: one instance alone vs two instances on one Redis; throughput and latency p50/p99. */
// Run: npx tsx bench/cluster-mirror.ts [--receivers 40] [--messages 20000] [--rate 1000] [--secs 5]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: { receivers: { type: 'string', default: '40' }, messages: { type: 'string', default: '20000' }, rate: { type: 'string', default: '1000' }, secs: { type: 'string', default: '5' } },
});
const RECEIVERS = Number(values.receivers);
const MESSAGES = Number(values.messages);
const RATE = Number(values.rate);
const SECS = Number(values.secs);
const WINDOW = 256;
const REPO = path.resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];

const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, () => {
    const a = s.address();
    s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
  });
});

async function startRedis(): Promise<string> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  children.push(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' }));
  for (;;) {
    const ok = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.end(); r(true); }).on('error', () => r(false)));
    if (ok) return `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startTsws(redis: string | undefined, id: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tsws-'));
  fs.mkdirSync(path.join(dir, 'conf.d'));
  const global = redis ? { cluster: { redis, instance: id } } : {};
  fs.writeFileSync(path.join(dir, 'conf'), JSON.stringify({ global: { ...global, 'log-level': 'warn' } }));
  fs.writeFileSync(path.join(dir, 'conf.d/x'), JSON.stringify({ vhosts: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'lws-mirror-protocol': {} }] }] }));
  const p = spawn(process.execPath, [path.join(REPO, 'bin/tsws.mjs'), '-c', dir, '-d', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(p);
  let buf = '';
  return new Promise((resolve, reject) => {
    p.stdout?.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const m = /"event":"ready".*?"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    p.on('exit', (code) => reject(new Error(`tsws exited ${code}`)));
  });
}

const open = (port: number) => new Promise<WebSocket>((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/?mirror=bench`, 'lws-mirror-protocol');
  ws.once('open', () => resolve(ws));
  ws.once('error', reject);
});

interface Receiver { readonly where: 'local' | 'remote'; got: number; lat: number[] }

function attach(ws: WebSocket, r: Receiver, onAll: () => void, target: () => number): void {
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    const sp = text.indexOf(' ');
    r.lat.push(performance.now() - Number(text.slice(sp + 1, text.indexOf(' ', sp + 1))));
    if (++r.got === target()) onAll();
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Sender on the first port; receivers spread over the ports. Two phases: saturation (window-paced) and a fixed rate. */
async function run(ports: number[]): Promise<Record<string, number>> {
  const sender = await open(ports[0] as number);
  const recv: Receiver[] = [];
  const sockets: WebSocket[] = [];
  let target = 0;
  let done: () => void = () => undefined;
  let finished = 0;
  for (let i = 0; i < RECEIVERS; i++) {
    const port = ports[i % ports.length] as number;
    const r: Receiver = { where: port === ports[0] ? 'local' : 'remote', got: 0, lat: [] };
    const ws = await open(port);
    attach(ws, r, () => { if (++finished === RECEIVERS) done(); }, () => target);
    recv.push(r);
    sockets.push(ws);
  }
  // Warm up and make sure every instance is subscribed: wait until a probe reaches everyone.
  const phase = async (count: number, pace: (i: number) => Promise<void>) => {
    for (const r of recv) { r.got = 0; r.lat = []; }
    finished = 0;
    target = count;
    const all = new Promise<void>((r) => { done = r; });
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      await pace(i);
      sender.send(`${i} ${performance.now()} ${'x'.repeat(40)}`);
    }
    await all;
    return performance.now() - t0;
  };
  await phase(100, async () => undefined);
  // Saturation: at most WINDOW messages ahead of the slowest remote (or local) receiver.
  const slowest = () => Math.min(...recv.map((r) => r.got));
  const satMs = await phase(MESSAGES, async (i) => {
    while (i - slowest() >= WINDOW) await new Promise((r) => setImmediate(r));
  });
  const satLat = recv.flatMap((r) => r.lat);
  const remoteSat = recv.filter((r) => r.where === 'remote').flatMap((r) => r.lat);
  // Fixed rate: latency without queueing.
  const n = RATE * SECS;
  const start = performance.now();
  await phase(n, async (i) => {
    const due = start + (i * 1000) / RATE;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, 1));
  });
  const local = recv.filter((r) => r.where === 'local').flatMap((r) => r.lat);
  const remote = recv.filter((r) => r.where === 'remote').flatMap((r) => r.lat);
  for (const s of [...sockets, sender]) s.close();
  return {
    msgsPerSec: Math.round((MESSAGES / satMs) * 1000),
    deliveriesPerSec: Math.round(((MESSAGES * RECEIVERS) / satMs) * 1000),
    satP50: pct(satLat, 50),
    satP99: pct(satLat, 99),
    satRemoteP99: remoteSat.length ? pct(remoteSat, 99) : NaN,
    localP50: pct(local, 50),
    localP99: pct(local, 99),
    remoteP50: remote.length ? pct(remote, 50) : NaN,
    remoteP99: remote.length ? pct(remote, 99) : NaN,
  };
}

try {
  const single = await run([await startTsws(undefined, 'single')]);
  const redis = await startRedis();
  const two = await run([await startTsws(redis, 'a'), await startTsws(redis, 'b')]);
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x >= 100 ? String(Math.round(x)) : x.toFixed(2));
  const rows = [['one instance', single], ['two instances + Redis', two]] as const;
  const out = [
    `receivers ${RECEIVERS} (spread over the instances), sender on the first instance, ${MESSAGES} messages of ~60 bytes at saturation (window ${WINDOW}), then ${RATE}/s for ${SECS} s; ${os.cpus().length} cores, Node ${process.version}`,
    '',
    '| setup | msgs/s in | deliveries/s out | saturated p50 ms | saturated p99 ms | saturated remote p99 ms | at rate: local p50 / p99 ms | at rate: remote p50 / p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(([name, r]) => `| ${name} | ${r.msgsPerSec} | ${r.deliveriesPerSec} | ${f(r.satP50)} | ${f(r.satP99)} | ${f(r.satRemoteP99)} | ${f(r.localP50)} / ${f(r.localP99)} | ${f(r.remoteP50)} / ${f(r.remoteP99)} |`),
  ].join('\n');
  process.stdout.write(`${out}\n`);
} finally {
  for (const c of children) c.kill('SIGKILL');
}
process.exit(0);
