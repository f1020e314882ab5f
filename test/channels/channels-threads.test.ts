/** @module The channels' conformance suite across count-threads 2 with no Redis (the main thread holds the state), and its metrics summed over the threads. */
import { afterAll, expect, it } from 'vitest';
import { removeConfigDirs } from '../helpers/config-dir.ts';
import { killAll } from '../helpers/process.ts';
import { channelConformance } from './conformance.ts';
import { probeConfig, startProbeServer, threadsTarget } from './targets.ts';
import { Probe } from './probe.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

channelConformance('count-threads 2', threadsTarget, { kill: false });

it('counts publications and presence members of every thread, whichever thread the scrape reaches', async () => {
  const dir = probeConfig({ 'count-threads': '2', metrics: { port: '0', interface: '127.0.0.1' } });
  const s = await startProbeServer(dir);
  const listeners = await s.p.ready;
  const site = listeners.find((l) => l.vhosts.includes('localhost'));
  const metrics = listeners.find((l) => l.vhosts.length === 0);
  const probes = await Promise.all(Array.from({ length: 12 }, () => Probe.open(site?.port ?? 0)));
  const threads = new Set<number>();
  for (const p of probes) {
    threads.add((await p.cmd<{ thread: number }>('thread')).thread);
    await p.cmd('publish', { ch: 'counted', data: 'x' });
    await p.cmd('join', { ch: 'counted', info: null });
  }
  expect([...threads].sort()).toEqual([0, 1]);
  await (probes[0] as Probe).cmd('history', { ch: 'counted', since: { epoch: 'none', offset: 0 } });
  for (let i = 0; i < 4; i++) {
    const text = await (await fetch(`http://127.0.0.1:${metrics?.port}/metrics`)).text();
    expect(text).toMatch(/^tsws_channel_publications_total 12$/m);
    expect(text).toMatch(/^tsws_channel_presence_members 12$/m);
    expect(text).toMatch(/^tsws_channel_recoveries_total\{result="epoch-changed"\} 1$/m);
  }
  for (const p of probes) await p.close();
  s.p.kill('SIGTERM');
  expect(await s.p.exited).toBe(0);
});
