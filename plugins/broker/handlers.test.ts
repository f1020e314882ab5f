import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient, FIXTURE_HANDLER, startUnixHandler } from '../../test/helpers/broker.ts';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess, type Running } from '../../test/helpers/in-process.ts';
import { REPO } from '../../test/helpers/process.ts';
import { eventually, TestClient } from '../../test/helpers/ws-client.ts';

/*
 * One tsws (in this process) whose broker reaches real handler processes:
 * the fixture handler on a UNIX socket (started here), the same program run
 * by the broker over stdin/stdout (twice: "victim" is the one killed), and
 * the shipped example handlers (sh, then node) as a chain. A second vhost
 * checks logins with a handler instead of a users file.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-broker-'));
const sock = path.join(tmp, 'handler.sock');
const fixture = `exec:node ${FIXTURE_HANDLER}`;
const onSocket = `unix:${sock}`;
const handlers = [
  `echo=${onSocket}`, `hold=${onSocket}`, `release=${onSocket}`, `garbage=${onSocket}`, `badcmd=${onSocket}`, `slow=${onSocket}`,
  `gone=unix:${path.join(tmp, 'nobody-listens.sock')}`,
  `piped=${fixture}`, `nope=${fixture}`, `tell=${fixture}`, `loop=${fixture}`,
  `pid=${fixture} victim`, `hang=${fixture} victim`,
  `post=exec:sh ${path.join(REPO, 'plugins/broker/examples/stamp.sh')}`, `route=exec:node ${path.join(REPO, 'plugins/broker/examples/route.mjs')}`,
].join('; ');

let running: Running;
let unixHandler: ChildProcess;
let url: string;

beforeAll(async () => {
  unixHandler = await startUnixHandler(sock);
  const dir = makeConfigDir({
    files: { users: 'alice:alice-pw\nbob:bob-pw\n# a comment\ncarol:carol-pw\n' },
    vhosts: {
      a: [{
        name: 'localhost', port: '0', interface: '127.0.0.1',
        'ws-protocols': [{
          // 30 s: the first request to an exec: handler waits for its process (often node) to start, and a
          // restarted one for its backoff too; 1 s was not promised on a loaded machine. The timeout case
          // has its own vhost below.
          broker: { 'server-name': 'solo', handlers, 'users-file': '', 'handler-timeout-secs': '30', 'max-hops': '5', 'peer-secret': 'the-secret' },
          'broker-peer': {},
        }],
      }],
      b: [{
        name: 'auth', port: '0', interface: '127.0.0.1',
        'ws-protocols': [{ broker: { 'server-name': 'auth', handlers: `echo=${fixture}`, 'auth-handler': fixture } }],
      }],
      // A handler-timeout of 1 s, with only the UNIX-socket handler (already running: no process start to wait for).
      c: [{
        name: 'impatient', port: '0', interface: '127.0.0.1',
        'ws-protocols': [{ broker: { 'server-name': 'impatient', handlers: `echo=${onSocket}; slow=${onSocket}`, 'auth-handler': onSocket, 'handler-timeout-secs': '1' } }],
      }],
    },
  });
  // The users file lives in the config dir: name it absolutely (relative names are relative to the working directory).
  const conf = path.join(dir, 'conf.d/a');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replace('"users-file": ""', `"users-file": ${JSON.stringify(path.join(dir, 'users'))}`));
  running = await startInProcess(dir);
  url = running.wsUrl('/', 'localhost');
});

afterAll(async () => {
  await running?.stop();
  unixHandler?.kill();
  removeConfigDirs();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const logged = (pred: (l: Record<string, unknown>) => boolean) => running.logs.some(pred);

describe('logging in', () => {
  it('refuses a wrong password with login-failed and closes 4003; nothing goes to handlers before a login', async () => {
    const c = await BrokerClient.open(url);
    c.send('echo', 1, 'too early');
    expect(await c.expect('error')).toMatchObject({ id: 1, code: 'not-logged-in' });
    c.json({ type: 'login', id: 'l', username: 'alice', password: 'wrong' });
    expect(await c.expect('error')).toMatchObject({ id: 'l', code: 'login-failed' });
    expect((await c.raw.closed).code).toBe(4003);
  });

  it('a newer login under the same name replaces the older connection (4001)', async () => {
    const first = await BrokerClient.login(url, 'carol');
    const second = await BrokerClient.login(url, 'carol');
    expect((await first.raw.closed).code).toBe(4001);
    expect(await second.ask('echo', 1, 'still here')).toEqual({ type: 'reply', id: 1, payload: 'still here' });
    await second.close();
  });

  it('asks the auth handler when the vhost has one', async () => {
    // Both vhosts ask for port 0, so they share one listener: the Host header picks the vhost.
    const ok = await BrokerClient.open(url, 'auth');
    ok.json({ type: 'login', username: 'zoe', password: 'zoe-pw' });
    expect(await ok.expect('welcome')).toMatchObject({ user: 'zoe', server: 'auth', types: ['echo'] });
    const refused = await BrokerClient.open(url, 'auth');
    refused.json({ type: 'login', username: 'zoe', password: 'nope' });
    expect(await refused.expect('error')).toMatchObject({ code: 'login-failed' });
    await ok.close();
  });
});

describe('handlers', () => {
  it('answers through a handler on a UNIX socket and one on stdin/stdout, ids as the client gave them', async () => {
    const c = await BrokerClient.login(url, 'alice');
    expect(await c.ask('echo', 'abc', { x: [1, 'two'] })).toEqual({ type: 'reply', id: 'abc', payload: { x: [1, 'two'] } });
    expect(await c.ask('piped', 42, 'through a pipe')).toEqual({ type: 'reply', id: 42, payload: 'through a pipe' });
    expect(await c.ask('nope', 45)).toEqual({ type: 'error', id: 45, code: 'handler-error', message: 'no such type nope' });
    // The delivery is queued before the sender's answer.
    c.send('tell', 43, { to: ['alice'], text: 'to myself' });
    expect(await c.expect('message')).toEqual({ type: 'message', from: 'alice', server: 'solo', payload: 'to myself' });
    expect(await c.answer(43)).toEqual({ type: 'sent', id: 43, clients: ['alice'], unreachable: [] });
    expect(await c.ask('nothing-handles-this', 44)).toMatchObject({ type: 'error', id: 44, code: 'no-handler' });
    await c.close();
  });

  it('runs a chain of two handlers (sh, then node) ending in sendClients to another user of this server', async () => {
    const alice = await BrokerClient.login(url, 'alice');
    const bob = await BrokerClient.login(url, 'bob');
    expect(await alice.ask('post', 'p1', { to: 'bob', text: 'hi bob' })).toEqual({ type: 'sent', id: 'p1', clients: ['bob'], unreachable: [] });
    const m = await bob.expect('message');
    expect(m).toMatchObject({ from: 'alice', server: 'solo', payload: { to: 'bob', text: 'hi bob', by: 'alice@solo' } });
    expect((m.payload as { stamped: string }).stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await alice.ask('post', 'p2', { to: 'nobody', text: '?' })).toEqual({ type: 'sent', id: 'p2', clients: [], unreachable: ['nobody'] });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('does not hold one client behind another: a held request waits while others are answered', async () => {
    const alice = await BrokerClient.login(url, 'alice');
    const bob = await BrokerClient.login(url, 'bob');
    alice.send('hold', 'h', 'mine');
    expect(await bob.ask('echo', 'b1', 'not blocked')).toEqual({ type: 'reply', id: 'b1', payload: 'not blocked' });
    expect(await alice.ask('echo', 'a1', 'me neither')).toEqual({ type: 'reply', id: 'a1', payload: 'me neither' });
    expect(alice.raw.received.map((r) => r.text).join('\n')).not.toContain('"id":"h"');
    expect(await bob.ask('release', 'r')).toMatchObject({ type: 'reply', id: 'r' });
    expect(await alice.answer('h')).toEqual({ type: 'reply', id: 'h', payload: { released: 'mine' } });
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('faults', () => {
  it('a handler that is down: handler-down at once, with the request id, and a log line', async () => {
    const c = await BrokerClient.login(url, 'alice');
    const e = await c.ask('gone', 'g1');
    expect(e).toMatchObject({ type: 'error', id: 'g1', code: 'handler-down' });
    expect(logged((l) => l.msg === 'broker: request failed: handler-down' && l.id === 'g1' && l.user === 'alice')).toBe(true);
    await c.close();
  });

  it('a slow handler: handler-timeout for that request; the handler keeps serving', async () => {
    const c = await BrokerClient.open(url, 'impatient');
    c.json({ type: 'login', username: 'alice', password: 'alice-pw' });
    expect(await c.expect('welcome')).toMatchObject({ server: 'impatient' });
    expect(await c.ask('slow', 's1')).toMatchObject({ type: 'error', id: 's1', code: 'handler-timeout' });
    expect(logged((l) => l.code === 'handler-timeout' && l.id === 's1')).toBe(true);
    expect(await c.ask('echo', 's2', 'after')).toEqual({ type: 'reply', id: 's2', payload: 'after' });
    await c.close();
  });

  it('garbage: a malformed reply fails its request; a line without an id fails what is in flight and the connection is made again', async () => {
    const c = await BrokerClient.login(url, 'alice');
    expect(await c.ask('badcmd', 'b')).toMatchObject({ type: 'error', id: 'b', code: 'bad-handler-reply' });
    expect(await c.ask('garbage', 'g')).toMatchObject({ type: 'error', id: 'g', code: 'bad-handler-reply' });
    expect(logged((l) => String(l.msg).startsWith('broker: handler broke the framing'))).toBe(true);
    expect(await c.ask('echo', 'e', 'fine again')).toEqual({ type: 'reply', id: 'e', payload: 'fine again' });
    await c.close();
  });

  it('a spawned handler killed mid-request: handler-down for the request in flight, then a new process serves', async () => {
    const c = await BrokerClient.login(url, 'alice');
    const first = await c.ask('pid', 1);
    const pid = (first as { payload: { pid: number } }).payload.pid;
    c.send('hang', 'mid');
    // Killed once it holds the request (its stderr line is logged), not before.
    await eventually(() => logged((l) => l.handlerPid === pid && String(l.stderr).startsWith('holding hang')), 'the victim got the request');
    process.kill(pid, 'SIGKILL');
    expect(await c.answer('mid')).toMatchObject({ type: 'error', id: 'mid', code: 'handler-down' });
    await eventually(() => logged((l) => l.msg === 'broker: handler started' && typeof l.handlerPid === 'number' && l.handlerPid !== pid && String(l.command).endsWith('victim')), 'the victim was restarted');
    const again = await c.ask('pid', 2);
    expect(again.type).toBe('reply');
    expect((again as { payload: { pid: number } }).payload.pid).not.toBe(pid);
    await c.close();
  });

  it('a loop of sendHandler ends at max-hops with hop-limit', async () => {
    const c = await BrokerClient.login(url, 'alice');
    const e = await c.ask('loop', 'L');
    expect(e).toMatchObject({ type: 'error', id: 'L', code: 'hop-limit' });
    expect((e as { message: string }).message).toContain('5 handlers');
    await c.close();
  });

  it('a bad frame from a client gets bad-request and keeps the connection', async () => {
    const c = await BrokerClient.login(url, 'alice');
    c.raw.send('not json');
    expect(await c.expect('error')).toMatchObject({ code: 'bad-request' });
    c.json({ type: 'echo', payload: 'no id' });
    expect(await c.expect('error')).toMatchObject({ code: 'bad-request' });
    expect(await c.ask('echo', 1, 'ok')).toEqual({ type: 'reply', id: 1, payload: 'ok' });
    await c.close();
  });
});

describe('links from peer servers (broker-peer)', () => {
  it('refuses a wrong secret (4003), delivers for a peer that knows it, and reports who got it', async () => {
    const bad = await TestClient.open(url, 'broker-peer');
    bad.send(JSON.stringify({ type: 'hello', v: 2, server: 'x', secret: 'guess' }));
    expect(JSON.parse(await bad.nextText())).toMatchObject({ type: 'refused', code: 'bad-secret' });
    expect((await bad.closed).code).toBe(4003);

    const bob = await BrokerClient.login(url, 'bob');
    const peer = await TestClient.open(url, 'broker-peer');
    peer.send(JSON.stringify({ type: 'hello', v: 2, server: 'far', secret: 'the-secret' }));
    expect(JSON.parse(await peer.nextText())).toEqual({ type: 'welcome', v: 2, server: 'solo' });
    peer.send(JSON.stringify({ type: 'deliver', ref: 7, from: 'zed', clients: ['bob', 'nobody'], payload: { hi: 1 } }));
    expect(await bob.expect('message')).toEqual({ type: 'message', from: 'zed', server: 'far', payload: { hi: 1 } });
    expect(JSON.parse(await peer.nextText())).toEqual({ type: 'delivered', ref: 7, clients: ['bob'], unreachable: ['nobody'] });
    await Promise.all([bob.close(), peer.close()]);
  });
});
