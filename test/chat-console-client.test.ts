/// <reference lib="dom" />
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { freePort } from './helpers/free-port.ts';
import { REPO, killAll, runTsws } from './helpers/process.ts';
import { killPtys, runInPty, type Pty } from './helpers/pty.ts';
import { joinPage, say, waitForEvent, waitForMembers, waitForMessage } from './helpers/chat-page.ts';
import { ChatClient } from './helpers/chat.ts';

const BIN = path.join(REPO, 'bin/tsws-chat.mjs');

/** tsws-chat in a terminal of its own, as a person runs it. */
const consoleClient = (...args: string[]): Pty => runInPty([process.execPath, BIN, ...args], { cwd: REPO });

/** tsws-chat with plain pipes, for its exit status and stderr. */
function runPlain(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    // 'close', not 'exit': 'exit' may come before the last output was read.
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let ws: string;
beforeAll(async () => {
  const server = runTsws(['-c', demoConfigDir()]);
  const [listener] = await server.ready;
  ws = `ws://127.0.0.1:${listener?.port}`;
});
afterAll(() => {
  killPtys();
  killAll();
  removeConfigDirs();
});

describe('tsws-chat, the console client', () => {
  it('joins, sends and receives with names and times, lists members with /who, moves with /room, leaves with /quit (exit 0)', async () => {
    const alice = consoleClient(ws, '--name', 'alice', '--room', 'tty');
    await alice.waitFor(/\d\d:\d\d:\d\d \* joined tty as alice; in tty \(1\): alice/);
    const bob = consoleClient(ws, '-n', 'bob', '-r', 'tty');
    await bob.waitFor(/\* joined tty as bob; in tty \(2\): alice, bob/);
    await alice.waitFor(/\* bob joined tty/);
    alice.type('hello bob');
    await bob.waitFor(/\d\d:\d\d:\d\d <alice> hello bob/);
    // alice sees her line once: the room's copy, not also the terminal's echo of her typing
    await alice.waitFor(/<alice> hello bob/);
    expect(alice.screen().filter((l) => l.includes('hello bob'))).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d <alice> hello bob$/)]);
    // the welcome printed the same list: look only at what /who prints
    const mark = bob.text().length;
    bob.type('/who');
    await bob.waitFor(/\* in tty \(2\): alice, bob/, '/who output', mark);
    bob.type('//slash is text');
    await alice.waitFor(/<bob> \/slash is text/);
    bob.type('/room elsewhere');
    await bob.waitFor(/\* you left tty[\s\S]*\* joined elsewhere as bob; in elsewhere \(1\): bob/);
    await alice.waitFor(/\* bob left/);
    bob.type('/quit');
    expect(await bob.exited).toBe(0);
    alice.type('/nonsense');
    await alice.waitFor(/! unknown command \/nonsense; \/help lists them/);
    alice.type('/quit');
    expect(await alice.exited).toBe(0);
  });

  it('sends what is piped in, even before the join is done, then leaves at the end of input (exit 0)', async () => {
    const { client: reader } = await ChatClient.joined(ws, 'reader', 'pipe');
    const p = spawn(process.execPath, [BIN, ws, '--name', 'piper', '--room', 'pipe'], { cwd: REPO, stdio: ['pipe', 'ignore', 'pipe'] });
    // Written at once and closed: everything arrives before the connection is even open.
    p.stdin.end('first line\nsecond line\n');
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    // Its messages and its leave: a presence frame may pass messages still queued for the reader (channelFrames writes its own frames first).
    const seen: string[] = [];
    while (seen.length < 3) {
      const m = await reader.next();
      if (m.type === 'message' && m.name === 'piper') seen.push(m.text);
      if (m.type === 'gone' && m.name === 'piper') seen.push('(left)');
    }
    expect(seen.filter((t) => t !== '(left)')).toEqual(['first line', 'second line']);
    expect(seen).toContain('(left)');
    expect(await exited).toBe(0);
    await reader.close();
  });

  it('exits 1 with a clear message when the server cannot be reached', async () => {
    const port = await freePort();
    const r = await runPlain([`ws://127.0.0.1:${port}`, '--name', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tsws-chat: cannot reach the chat at ws://127.0.0.1:${port}/: connect ECONNREFUSED`);
    const inPty = consoleClient(`ws://127.0.0.1:${port}`, '--name', 'x');
    await inPty.waitFor(/cannot reach the chat/);
    expect(await inPty.exited).toBe(1);
  });

  it('exits 1 with the server\'s message when the name is taken, and 2 for a bad command line', async () => {
    const { client } = await ChatClient.joined(`${ws}/`, 'taken', 'clash');
    const r = await runPlain([ws, '--name', 'Taken', '--room', 'clash']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tsws-chat: the name "Taken" is already taken in room "clash"; choose another');
    await client.close();
    const usage = await runPlain([ws]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--name is required');
  });
});

describe('tsws-chat across a server restart', () => {
  it('reports the lost connection, retries with backoff, and re-joins its room under its name', async () => {
    const port = await freePort();
    const dir = demoConfigDir(port);
    let server = runTsws(['-c', dir]);
    await server.ready;
    const url = `ws://127.0.0.1:${port}`;
    const dora = consoleClient(url, '--name', 'dora', '--room', 'again');
    await dora.waitFor(/\* joined again as dora/);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await dora.waitFor(/! connection lost \(1001 going away\); reconnecting in 1 s/);
    server = runTsws(['-c', dir]);
    await server.ready;
    await dora.waitFor(/\* rejoined again as dora; in again \(1\): dora/);
    const { client } = await ChatClient.joined(`${url}/`, 'eve', 'again');
    client.send('still there?');
    await dora.waitFor(/<eve> still there\?/);
    dora.type('/quit');
    expect(await dora.exited).toBe(0);
    await client.close();
    server.kill('SIGTERM');
    await server.exited;
  });
});

// The scenario: two terminals and one web page in one room, each seeing the others.
describe.runIf(chromiumPresent || process.env.CI)('tsws-chat and the web page together', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('two console clients and a web page in one room see each other', async () => {
    const base = ws.replace('ws://', 'http://') + '/';
    const alice = consoleClient(ws, '--name', 'alice', '--room', 'mixed');
    await alice.waitFor(/\* joined mixed as alice/);
    const bob = consoleClient(ws, '--name', 'bob', '--room', 'mixed');
    await bob.waitFor(/\* joined mixed as bob/);
    const carol = await joinPage(browser, base, 'carol', 'mixed');
    expect(await carol.$$eval('#members li', (lis) => lis.map((li) => li.textContent))).toEqual(['alice', 'bob', 'carol (you)']);
    await alice.waitFor(/\* carol joined mixed/);
    await bob.waitFor(/\* carol joined mixed/);

    alice.type('hi from the terminal');
    await bob.waitFor(/<alice> hi from the terminal/);
    await waitForMessage(carol, 'alice', 'hi from the terminal');

    await say(carol, 'hi from the browser');
    await alice.waitFor(/\d\d:\d\d:\d\d <carol> hi from the browser/);
    await bob.waitFor(/\d\d:\d\d:\d\d <carol> hi from the browser/);

    bob.type('and from bob');
    await alice.waitFor(/<bob> and from bob/);
    await waitForMessage(carol, 'bob', 'and from bob');

    alice.type('/quit');
    expect(await alice.exited).toBe(0);
    await waitForMembers(carol, (m) => m.join() === 'bob,carol (you)');
    await waitForEvent(carol, 'alice left');
    await bob.waitFor(/\* alice left/);
    bob.type('/quit');
    expect(await bob.exited).toBe(0);
    await carol.close();
  });
});
