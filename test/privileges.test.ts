import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { BIN, killAll, runTsws } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

const isRoot = process.getuid?.() === 0;
const canSudo = !isRoot && (() => {
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ids = (name: 'passwd' | 'group', key: string) => Number(execFileSync('getent', [name, key], { encoding: 'utf8' }).split(':')[2]);

/** The real, effective, saved and filesystem ids of a process, from the kernel. */
function procIds(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}

describe('privilege drop', () => {
  // CI runs .ci/run as root (or with sudo); elsewhere this runs when it can become root.
  it.runIf(isRoot || canSudo || process.env.CI)('drops to username/groupname after binding, opening logs and running init', async () => {
    expect(isRoot || canSudo, 'needs root or passwordless sudo').toBe(true);
    const dir = makeConfigDir({
      conf: { global: { username: 'nobody', groupname: 'nogroup' } },
      files: { 'www/index.html': 'hi' },
      vhosts: { x: [{ name: 'localhost', port: '0', 'access-log': 'logs/access.log', mounts: [{ mountpoint: '/', origin: 'file://www' }], 'ws-protocols': [{ echo: {} }] }] },
    });
    fs.chmodSync(dir, 0o755);
    const args = ['-c', dir];
    const p = isRoot ? runTsws(args) : runViaSudo(args);
    const [listener] = await p.ready;
    const dropped = p.lines.find((l) => l.event === 'privileges-dropped');
    expect(dropped).toBeDefined();
    const pid = Number(dropped?.pid);
    const nobody = ids('passwd', 'nobody');
    const nogroup = ids('group', 'nogroup');
    expect(procIds(pid)).toEqual({ uid: [nobody, nobody, nobody, nobody], gid: [nogroup, nogroup, nogroup, nogroup], groups: expect.any(Array) });
    expect(procIds(pid).groups).not.toContain(0);
    // the access log, opened as root before the drop, is still written afterwards
    expect((await fetch(`http://127.0.0.1:${listener?.port}/`)).status).toBe(200);
    const c = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'echo');
    c.send('x');
    expect(await c.nextText()).toBe('x');
    await c.close();
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'logs/access.log'), 'utf8')).toMatch(/"GET \/ HTTP\/1\.1" 200/);
  });

  it('refuses to start when the user to drop to does not exist, naming it', async () => {
    const dir = makeConfigDir({ conf: { global: { username: 'no-such-user-tsws' } }, vhosts: { x: [{ name: 'a', port: '0' }] } });
    const p = runTsws(['-c', dir]);
    expect(await p.exited).toBe(1);
    expect(String(p.lines.find((l) => l.code === 'TSWS_ERR_PRIV_UNKNOWN')?.msg)).toContain('the user "no-such-user-tsws" to drop privileges to does not exist');
    expect(p.lines.some((l) => l.event === 'listening')).toBe(false);
  });
});

/** Like runTsws, but as root through sudo (for CI machines that are not root themselves). */
function runViaSudo(args: string[]): ReturnType<typeof runTsws> {
  const child = spawn('sudo', ['-n', process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return adopt(child);
}

function adopt(child: ReturnType<typeof spawn>): ReturnType<typeof runTsws> {
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      try {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
      buf = buf.slice(nl + 1);
    }
  });
  // 'close', not 'exit': 'exit' may come before the last lines were read from stdout (as in process.ts).
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const waitFor = async (pred: (l: Record<string, unknown>) => boolean) => {
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    proc: child as never,
    lines,
    stderr: [],
    ready: waitFor((l) => l.event === 'ready').then((l) => l.listeners as never),
    exited,
    waitFor,
    kill: (s = 'SIGTERM') => void execFileSync('sudo', ['-n', 'kill', `-${s.replace('SIG', '')}`, String(child.pid)]),
  };
}
