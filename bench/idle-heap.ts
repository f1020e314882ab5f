/**
 * @module What tsws's JS heap holds per idle websocket: tsws in this process, the load generator's idle mode, two heap snapshots, the difference by constructor.
 *
 *     node --expose-gc --max-semi-space-size=4 --import tsx bench/idle-heap.ts [connections, default 4000]
 *
 * Scenario 5 measures RSS, which moves with V8's and the allocator's timing;
 * this counts the objects. The server runs in this thread (no supervisor
 * worker), with the bench's tsws config; full GCs before each snapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { prepareEnv } from './lib/configs.ts';
import { loadgenArgs } from './lib/loadgen.ts';
import { sleep, startChild } from './lib/proc.ts';
import { startServer } from '../server/app/embed.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const N = Number(process.argv[2] ?? '4000');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Self size and count by "type name" (strings and numbers lumped), from a .heapsnapshot file. */
function bySize(file: string): Map<string, [number, number]> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [it, iname, isize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + it] as number] ?? '?';
    const name = type.includes('string') ? '' : type === 'number' ? 'heap number' : (snap.strings[snap.nodes[i + iname] as number] ?? '').slice(0, 50);
    const key = `${type} ${name}`;
    const e = out.get(key) ?? [0, 0];
    e[0] += snap.nodes[i + isize] as number;
    e[1]++;
    out.set(key, e);
  }
  return out;
}

const env = prepareEnv(REPO, path.join(REPO, 'bench', '.work', 'heap'), path.join(REPO, 'bench', '.work', 'bin', 'loadgen'));
const server = await startServer({ configDir: env.tswsConfig, log: 'error', freePorts: true });
const port = server.listeners[0]?.port ?? 0;
await sleep(2000);
const settle = async () => {
  await sleep(2000);
  for (let i = 0; i < 4; i++) gc();
};
await settle();
const used0 = v8.getHeapStatistics().used_heap_size;
const before = v8.writeHeapSnapshot(path.join(env.work, 'before.heapsnapshot'));
const load = startChild(env.loadgen, loadgenArgs({ mode: 'idle', protocol: 'echo', conns: N, sources: 64, handshakes: 128 }, [port]), { stdin: 'pipe' });
const { connected } = JSON.parse(await load.waitLine((l) => l.startsWith('{"event":"connected"'), 120_000)) as { connected: number };
await settle();
const used1 = v8.getHeapStatistics().used_heap_size;
const after = v8.writeHeapSnapshot(path.join(env.work, 'after.heapsnapshot'));
load.proc.stdin?.end('\n');
await load.exited;
await server.stop();

const [a, b] = [bySize(before), bySize(after)];
const rows = [...b].map(([k, [size, count]]) => [k, (size - (a.get(k)?.[0] ?? 0)) / connected, (count - (a.get(k)?.[1] ?? 0)) / connected] as const);
const lines = [`${connected} idle connections: ${((used1 - used0) / connected).toFixed(0)} B of used JS heap each (v8.getHeapStatistics)`, 'B/conn  objects/conn  type name'];
for (const [k, size, count] of rows.filter((r) => Math.abs(r[1]) >= 2).sort((x, y) => y[1] - x[1])) lines.push(`${size.toFixed(1).padStart(6)}  ${count.toFixed(2).padStart(12)}  ${k}`);
// One write, and exit once it is out: stdout to a pipe is asynchronous, and an exit right after
// console.log calls cut the table short (the Node 24 evidence of one full run had only its first line).
process.stdout.write(`${lines.join('\n')}\n`, () => process.exit(0));
