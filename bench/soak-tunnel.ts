/** @module Tunnel soak (the seed's test 3, scaled up): 100 agents messaging every 0.5 s plus one flooding, for minutes; counts loss, duplicates and server memory. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { standaloneClients } from '../server/session/client/standalone.ts';
import { TunnelAgent } from '../plugins/tunnel/agent/tunnel-agent.ts';
import type { Delivery } from '../plugins/tunnel/node-ref.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    agents: { type: 'string', default: '100' },
    'interval-ms': { type: 'string', default: '500' },
    report: { type: 'string' },
  },
});
const MINUTES = Number(args.minutes);
const AGENTS = Number(args.agents);
const INTERVAL_MS = Number(args['interval-ms']);
const SAMPLE_MS = 10_000;
const REPO = path.resolve(import.meta.dirname, '..');
const log = pino({ level: 'warn' }, pino.destination(2));

// ---- the public node: a tsws process of its own, so its RSS is its own -------------------

const ids = [...Array.from({ length: AGENTS }, (_, i) => `n${i}`), 'fast', 'sink'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-soak-'));
fs.writeFileSync(path.join(dir, 'conf'), JSON.stringify({ global: {} }));
fs.mkdirSync(path.join(dir, 'conf.d'));
const tokens = ids.map((id) => `${id}:${id}-soak-token`).join(',');
fs.writeFileSync(
  path.join(dir, 'conf.d/soak'),
  JSON.stringify({
    vhosts: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/nodes', origin: 'callback://tunnel' }], 'ws-protocols': [{ tunnel: { tokens } }] }],
  }),
);
const server = spawn(process.execPath, [path.join(REPO, 'bin/tsws.mjs'), '-c', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
let serverExit: string | undefined;
server.on('exit', (code, signal) => (serverExit = `exit ${code ?? ''}${signal ?? ''}`));
const port = await new Promise<number>((resolve, reject) => {
  let buf = '';
  server.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (const line of buf.split('\n')) {
      if (!line.includes('"event":"ready"')) continue;
      const ready = JSON.parse(line) as { listeners: { port: number }[] };
      resolve(ready.listeners[0]?.port ?? 0);
    }
    buf = buf.slice(buf.lastIndexOf('\n') + 1);
  });
  server.on('exit', () => reject(new Error('tsws exited before it was ready')));
});
const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

// ---- the private nodes' local service (every agent forwards to it) --------------------------

const target = http.createServer((req, res) => res.end(`pong ${req.url}`));
await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
const targetUrl = new URL(`http://127.0.0.1:${(target.address() as AddressInfo).port}/`);

// ---- bookkeeping ----------------------------------------------------------------------------

interface Flow {
  sent: number;
  acked: number;
  nacked: Record<string, number>;
  /** At the recipient: the next number expected, received, duplicates, numbers skipped. */
  next: number;
  received: number;
  dup: number;
  gaps: number;
}
const flows = new Map<string, Flow>();
const flow = (from: string): Flow => {
  let f = flows.get(from);
  if (!f) flows.set(from, (f = { sent: 0, acked: 0, nacked: {}, next: 0, received: 0, dup: 0, gaps: 0 }));
  return f;
};
const latencies: number[] = [];
let reconnects = 0;

function answered(f: Flow, d: Delivery): void {
  if (d.ok) f.acked++;
  else f.nacked[d.code] = (f.nacked[d.code] ?? 0) + 1;
}

/** Messages carry (sender, n); a receiver sees each sender's numbers in order, once each. */
function onMessage(from: string, body: unknown): void {
  const { n, t } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof n !== 'number' || typeof t !== 'number') throw new Error(`soak: a message from ${from} that no sender here wrote: ${JSON.stringify(body)}`);
  const f = flow(from);
  f.received++;
  if (n < f.next) f.dup++;
  else {
    f.gaps += n - f.next;
    f.next = n + 1;
  }
  if (from !== 'fast') latencies.push(Date.now() - t);
}

const wsUrl = `ws://127.0.0.1:${port}/`;
const agents = new Map<string, TunnelAgent>();
// One set of client connections for every agent of this process: one writable scheduler, as a server has.
const clients = standaloneClients(log, 'tsws-tunnel-soak');
await Promise.all(
  ids.map(
    (id) =>
      new Promise<void>((resolve) => {
        let ups = 0;
        const a = new TunnelAgent({
          server: wsUrl,
          id,
          token: `${id}-soak-token`,
          target: targetUrl,
          log: log.child({ node: id }),
          connect: clients.connect,
          onMessage,
          onFatal: (reason) => {
            log.error({ id, reason }, 'agent refused');
            process.exit(1);
          },
          onUp: () => {
            if (ups++ === 0) resolve();
            else reconnects++;
          },
        });
        agents.set(id, a);
        a.start();
      }),
  ),
);
const startRss = rss();
process.stderr.write(`soak: ${ids.length} agents up on :${port}, server RSS ${(startRss / 1048576).toFixed(1)} MiB; running ${MINUTES} min\n`);

// ---- the load -------------------------------------------------------------------------------

let running = true;
const started = Date.now();
const timers: NodeJS.Timeout[] = [];
for (let i = 0; i < AGENTS; i++) {
  const from = `n${i}`;
  const to = `n${(i + 1) % AGENTS}`;
  const agent = agents.get(from) as TunnelAgent;
  const f = flow(from);
  let n = 0;
  // Spread the senders over the interval rather than all on the same tick.
  const first = setTimeout(() => {
    timers.push(
      setInterval(() => {
        f.sent++;
        void agent.send(to, { n: n++, t: Date.now() }).then((d) => answered(f, d));
      }, INTERVAL_MS),
    );
  }, (i * INTERVAL_MS) / AGENTS);
  timers.push(first);
}

// The flooder keeps its whole message window in flight: a new message as soon as one is answered.
const fast = agents.get('fast') as TunnelAgent;
const fastFlow = flow('fast');
let fastN = 0;
let fastInFlight = 0;
function flood(): void {
  while (running && fastInFlight < 64) {
    fastInFlight++;
    fastFlow.sent++;
    void fast.send('sink', { n: fastN++, t: Date.now() }).then((d) => {
      fastInFlight--;
      answered(fastFlow, d);
      flood();
    });
  }
}
flood();

// HTTP through the tunnels alongside, one request a second, round the agents.
const httpStats = { ok: 0, failed: 0 };
let httpN = 0;
timers.push(
  setInterval(() => {
    const k = httpN++;
    fetch(`http://127.0.0.1:${port}/nodes/n${k % AGENTS}/ping?${k}`)
      .then(async (r) => {
        const good = r.ok && (await r.text()) === `pong /ping?${k}`;
        if (good) httpStats.ok++;
        else httpStats.failed++;
      })
      .catch(() => httpStats.failed++);
  }, 1000),
);

interface Sample {
  readonly min: number;
  readonly rssMiB: number;
  readonly ring: number;
  readonly fast: number;
}
const samples: Sample[] = [{ min: 0, rssMiB: startRss / 1048576, ring: 0, fast: 0 }];
const ringReceived = () => [...flows].filter(([k]) => k !== 'fast').reduce((s, [, f]) => s + f.received, 0);
timers.push(
  setInterval(() => {
    const s = { min: (Date.now() - started) / 60_000, rssMiB: rss() / 1048576, ring: ringReceived(), fast: fastFlow.received };
    samples.push(s);
    process.stderr.write(`soak: ${s.min.toFixed(1)} min  server RSS ${s.rssMiB.toFixed(1)} MiB  ring ${s.ring}  flood ${s.fast}${serverExit ? `  SERVER ${serverExit}` : ''}\n`);
  }, SAMPLE_MS),
);

await new Promise((r) => setTimeout(r, MINUTES * 60_000));
running = false;
for (const t of timers) clearInterval(t);
// Let every message still in flight be answered and arrive.
const drainUntil = Date.now() + 15_000;
while (Date.now() < drainUntil && [...agents.values()].some((a) => a.unanswered > 0)) await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 1000));
const endRss = rss();

// ---- the verdict ---------------------------------------------------------------------------

const ring = [...flows].filter(([k]) => k !== 'fast').map(([, f]) => f);
const sum = (fs: Flow[], k: 'sent' | 'acked' | 'received' | 'dup' | 'gaps') => fs.reduce((s, f) => s + f[k], 0);
const nacks = (fs: Flow[]) => fs.reduce((s, f) => s + Object.values(f.nacked).reduce((a, b) => a + b, 0), 0);
// Lost: acknowledged (written to the recipient's tunnel) but never received.
const lost = (fs: Flow[]) => fs.reduce((s, f) => s + Math.max(0, f.acked - f.received), 0);
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
const minuteRss = samples.find((s) => s.min >= 1)?.rssMiB ?? startRss / 1048576;
const maxRss = Math.max(...samples.map((s) => s.rssMiB));
const ok = !serverExit && lost(ring) + lost([fastFlow]) === 0 && sum(ring, 'dup') + fastFlow.dup === 0 && nacks(ring) + nacks([fastFlow]) === 0;

const lines = [
  `| | ring (${AGENTS} agents, every ${INTERVAL_MS} ms) | flood (1 agent, window-bound) |`,
  '| --- | --- | --- |',
  `| sent | ${sum(ring, 'sent')} | ${fastFlow.sent} |`,
  `| acked | ${sum(ring, 'acked')} | ${fastFlow.acked} |`,
  `| nacked | ${nacks(ring)} | ${nacks([fastFlow])} |`,
  `| received | ${sum(ring, 'received')} | ${fastFlow.received} |`,
  `| lost (acked, never received) | ${lost(ring)} | ${lost([fastFlow])} |`,
  `| duplicated | ${sum(ring, 'dup')} | ${fastFlow.dup} |`,
  `| out of order / skipped numbers | ${sum(ring, 'gaps')} | ${fastFlow.gaps} |`,
  '',
  `- duration: ${MINUTES} min; flood rate ${(fastFlow.received / (MINUTES * 60)).toFixed(0)} msg/s; ring latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`,
  `- HTTP through the tunnels alongside: ${httpStats.ok} ok, ${httpStats.failed} failed; agent reconnects: ${reconnects}; server: ${serverExit ?? 'alive'}`,
  `- server RSS: start ${(startRss / 1048576).toFixed(1)} MiB, at 1 min ${minuteRss.toFixed(1)} MiB, max ${maxRss.toFixed(1)} MiB, end ${(endRss / 1048576).toFixed(1)} MiB`,
  `- server RSS every ${SAMPLE_MS / 1000} s (MiB): ${samples.map((s) => s.rssMiB.toFixed(1)).join(' ')}`,
  '',
  '| minute | server RSS (MiB) | ring received | flood received |',
  '| --- | --- | --- | --- |',
  ...samples.filter((_, i) => i % 6 === 0 || i === samples.length - 1).map((s) => `| ${s.min.toFixed(1)} | ${s.rssMiB.toFixed(1)} | ${s.ring} | ${s.fast} |`),
  '',
  `verdict: ${ok ? 'PASS' : 'FAIL'}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (args.report) fs.writeFileSync(args.report, `${lines.join('\n')}\n`);

for (const a of agents.values()) a.stop();
server.kill('SIGTERM');
target.close();
setTimeout(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}, 500);
