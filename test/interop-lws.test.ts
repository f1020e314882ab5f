import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { killAll, runTsws } from './helpers/process.ts';

const CLIENT = '/usr/bin/libwebsockets-test-client';
const present = fs.existsSync(CLIENT);

afterAll(() => {
  killAll();
  removeConfigDirs();
});

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    // 'close', not 'exit': 'exit' may come before the last output (the session's end) was read.
    p.on('close', (code) => resolve({ code, out }));
  });
}

// CI installs the client (.ci/run); elsewhere the test runs when the binary is there.
describe.runIf(present || process.env.CI)('interop with libwebsockets-test-client (lws 4.1, C)', () => {
  it('runs its dumb-increment and mirror sessions against tsws without an error', async () => {
    expect(present, `${CLIENT} is missing: apt-get install libwebsockets-test-server`).toBe(true);
    const server = runTsws(['-c', demoConfigDir()]);
    const [listener] = await server.ready;
    // --once: exit when the mirror session ends (after 16k-80k mirrored messages); -d 15 logs each rx.
    const { code, out } = await run(CLIENT, ['127.0.0.1', `--port=${listener?.port}`, '--once', '-d', '15']);
    expect(code).toBe(0);
    expect(out).toContain('dumb: LWS_CALLBACK_CLIENT_ESTABLISHED');
    expect(out).toContain('mirror: LWS_CALLBACK_CLIENT_ESTABLISHED');
    expect(out).toMatch(/mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0/);
    expect(out).not.toMatch(/CONNECTION_ERROR|Partial write/);
    const counts = [...out.matchAll(/rx \d+ '(\d+)'/g)].map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThan(10);
    counts.forEach((n, i) => expect(n).toBe(i));
    expect(server.lines.filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);

  it('negotiates permessage-deflate with it on the mirror protocol and runs the mirror session compressed', async () => {
    expect(present, `${CLIENT} is missing: apt-get install libwebsockets-test-server`).toBe(true);
    // Not on dumb-increment: the client's own dumb-increment-protocol has rx_buffer_size under 128, so its
    // permessage-deflate fails construction there, yet it goes on and then reads no compressed count.
    const dir = makeConfigDir({
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'dumb-increment-protocol': {}, 'lws-mirror-protocol': { 'permessage-deflate': 'dedicated-32k' } }] }] },
    });
    const server = runTsws(['-c', dir]);
    const [listener] = await server.ready;
    const { code, out } = await run(CLIENT, ['127.0.0.1', `--port=${listener?.port}`, '--once', '-d', '15']);
    expect(code).toBe(0);
    // lws logs these for each extension the server's response accepted: only the mirror's.
    expect(out.match(/instantiating client ext permessage-deflate/g)).toHaveLength(1);
    expect(out).not.toContain('failed construction');
    expect(out).toMatch(/mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0/);
    expect(out).not.toMatch(/CONNECTION_ERROR|Partial write/);
    const counts = [...out.matchAll(/rx \d+ '(\d+)'/g)].map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThan(10);
    counts.forEach((n, i) => expect(n).toBe(i));
    expect(server.lines.filter((l) => typeof l.level === 'number' && l.level >= 50)).toEqual([]);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);
});
