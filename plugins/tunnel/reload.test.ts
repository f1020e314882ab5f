/** @module What a reload (SIGHUP) of the public node does to tunnels: kept open, the tokens file read again, new limits for new requests, a bad tokens file refused. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from '../../test/helpers/process.ts';
import { hello, killAgents, rawTunnel, runAgent, startTarget, tunnelConfigDir, type AgentProcess, type Target } from '../../test/helpers/tunnel.ts';
import { eventually } from '../../test/helpers/ws-client.ts';

let server: TswsProcess;
let target: Target;
let alpha: AgentProcess;
let base: string;
let ws: string;
let vhostFile: string;
let tokensFile: string;

const count = (event: string) => server.lines.filter((l) => l.event === event).length;

/** Sends SIGHUP and waits for the outcome: 'reloaded' or 'reload-failed'. */
async function reload(): Promise<'reloaded' | 'reload-failed'> {
  const [ok, failed] = [count('reloaded'), count('reload-failed')];
  server.kill('SIGHUP');
  // A liveness bound: a reload reads the config and plugins again, in a process on a loaded machine.
  await eventually(() => count('reloaded') > ok || count('reload-failed') > failed, 'the reload was done', 30_000);
  return count('reloaded') > ok ? 'reloaded' : 'reload-failed';
}

function editVhost(from: string, to: string): void {
  const text = fs.readFileSync(vhostFile, 'utf8');
  if (!text.includes(from)) throw new Error(`the vhost file does not say ${from}`);
  fs.writeFileSync(vhostFile, text.replace(from, to));
}

beforeAll(async () => {
  // request-timeout-secs 30: the requests expected to pass go through the agent, which a loaded
  // machine may not schedule within 1 s; the timeout test lowers it around its own requests.
  const dir = tunnelConfigDir('alpha:alpha-secret-token', 30);
  vhostFile = path.join(dir, 'conf.d/localhost');
  tokensFile = path.join(dir, 'tunnel-tokens');
  fs.writeFileSync(tokensFile, '# id token\ngamma gamma-secret-token\n');
  editVhost('"tokens": "demo:demo-token,', `"tokens-file": ${JSON.stringify(tokensFile)}, "tokens": "demo:demo-token,`);
  server = runTsws(['-c', dir]);
  target = await startTarget();
  const [listener] = await server.ready;
  base = `http://127.0.0.1:${listener?.port}`;
  ws = `ws://127.0.0.1:${listener?.port}`;
  alpha = runAgent(['--server', ws, '--id', 'alpha', '--token', 'alpha-secret-token', '--target', target.url]);
  await alpha.waitFor((l) => l.msg === 'tunnel up', 'the tunnel came up');
});

afterAll(async () => {
  killAgents();
  killAll();
  await target?.close();
  removeConfigDirs();
});

describe('a reload of the public node (SIGHUP)', () => {
  it('reads the tokens file again: an id added there may join, a tunnel whose id it dropped is closed with 4003', async () => {
    const gamma = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    expect(gamma.answer.type).toBe('welcome');
    expect((await rawTunnel(ws, hello('delta', 'delta-secret-token'))).answer.type).toBe('refused');
    fs.writeFileSync(tokensFile, 'delta delta-secret-token\n');
    expect(await reload()).toBe('reloaded');
    expect(await gamma.client.closed).toEqual({ code: 4003, reason: 'refused' });
    const delta = await rawTunnel(ws, hello('delta', 'delta-secret-token'));
    expect(delta.answer.type).toBe('welcome');
    await delta.client.close();
    // the agent's tunnel was never touched
    expect(alpha.lines.filter((l) => l.msg === 'tunnel up')).toHaveLength(1);
    expect((await fetch(`${base}/nodes/alpha/after`)).status).toBe(200);
  });

  it('a request through a tunnel opened before the reload gets the new request-timeout-secs', async () => {
    editVhost('"request-timeout-secs": "30"', '"request-timeout-secs": "1"');
    expect(await reload()).toBe('reloaded');
    const before = await fetch(`${base}/nodes/alpha/hang`);
    expect([before.status, await before.text()]).toEqual([504, 'node alpha did not answer within 1 s\n']);
    editVhost('"request-timeout-secs": "1"', '"request-timeout-secs": "2"');
    expect(await reload()).toBe('reloaded');
    const after = await fetch(`${base}/nodes/alpha/hang`);
    expect([after.status, await after.text()]).toEqual([504, 'node alpha did not answer within 2 s\n']);
    expect(alpha.lines.filter((l) => l.msg === 'tunnel up')).toHaveLength(1);
    // Back to 30 s for the requests below, which must be answered.
    editVhost('"request-timeout-secs": "2"', '"request-timeout-secs": "30"');
    expect(await reload()).toBe('reloaded');
  });

  it('an unreadable tokens file refuses the whole reload: tunnels, forwarding and joining go on as before', async () => {
    const good = fs.readFileSync(tokensFile, 'utf8');
    fs.writeFileSync(tokensFile, 'delta: two tokens here\n');
    expect(await reload()).toBe('reload-failed');
    expect(server.lines.some((l) => String(l.msg).includes(tokensFile))).toBe(true);
    expect((await fetch(`${base}/nodes/alpha/still`)).status).toBe(200);
    const delta = await rawTunnel(ws, hello('delta', 'delta-secret-token'));
    expect(delta.answer.type).toBe('welcome');
    await delta.client.close();
    fs.writeFileSync(tokensFile, good);
    expect(await reload()).toBe('reloaded');
  });
});
