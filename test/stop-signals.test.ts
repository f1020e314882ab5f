/**
 * @module SIGTERM at any moment ends in exit 0: sent the instant "ready" is printed, or earlier, during start-up.
 *
 * ECS sends SIGTERM on every deploy and does not wait for readiness. A signal
 * that meets no handler takes Node's default action: killed at once, exit
 * code lost (null), logs unflushed. The handlers once went in just after the
 * "ready" line, and a client acting on that line could signal inside the gap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { killAll, runTsws } from './helpers/process.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/** Starts the demo config, sends SIGTERM the moment a line matching `when` arrives, and returns how it ended. */
async function termAt(dir: string, when: (l: Record<string, unknown>) => boolean): Promise<{ code: number | null; stopped: boolean }> {
  const server = runTsws(['-c', dir]);
  const sent = server.waitFor(when).then(() => server.kill('SIGTERM'));
  const code = await server.exited;
  await sent.catch(() => undefined);
  return { code, stopped: server.lines.some((l) => l.event === 'stopped') };
}

describe('SIGTERM', () => {
  it('the instant "ready" is printed: exit 0 with "stopped", every time', async () => {
    const dir = demoConfigDir();
    const ends = [];
    // The gap was microseconds wide: a run of starts finds it where one would not.
    for (let i = 0; i < 8; i++) ends.push(await termAt(dir, (l) => l.event === 'ready'));
    expect(ends).toEqual(ends.map(() => ({ code: 0, stopped: true })));
    // Eight starts of the demo config one after another: 30 s is not enough on two busy cores.
  }, 120_000);

  it('during start-up, before the listeners are up: the stop waits for the start, then exit 0', async () => {
    const end = await termAt(demoConfigDir(), (l) => l.event === 'transport');
    expect(end).toEqual({ code: 0, stopped: true });
  });
});
