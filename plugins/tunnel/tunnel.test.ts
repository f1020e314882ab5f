import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from '../../test/helpers/process.ts';
import { hello, killAgents, rawTunnel, runAgent, setRequestTimeout, startTarget, tunnelConfigDir, type AgentProcess, type Target } from '../../test/helpers/tunnel.ts';
import { encodeData } from './wire.ts';
import { eventually } from '../../test/helpers/ws-client.ts';

/*
 * Real processes and sockets: the public node is `tsws` running the repo's
 * default config (conf.d/localhost, port 0, two more node ids, a 30 s request
 * timeout, lowered to 1 s only around the request that must time out); the private node is `tsws-tunnel` in front of a local HTTP
 * service that nothing but the agent talks to.
 */
const TOKENS = 'alpha:alpha-secret-token,beta:beta-secret-token,gamma:gamma-secret-token,web:web-secret-token';

let server: TswsProcess;
let base: string;
let ws: string;
let target: Target;
let alpha: AgentProcess;
let beta: AgentProcess;

const up = (a: AgentProcess) => a.waitFor((l) => l.msg === 'tunnel up', 'the tunnel came up');
const startAlpha = () => runAgent(['--server', ws, '--id', 'alpha', '--token', 'alpha-secret-token', '--target', target.url, '--send-to', 'beta']);
const isMessage = (from: string, body: unknown) => (l: Record<string, unknown>) => l.event === 'message' && l.from === from && JSON.stringify(l.body) === JSON.stringify(body);

let configDir: string;

beforeAll(async () => {
  // A fixed port, so that the last test can restart the public node where the agents expect it.
  const port = await freePort();
  // request-timeout-secs 30, not 1: every request through the agent had to be answered within it
  // (the 3 MiB POST took 0.56 s beside two busy loops), and the request the agent-killed test holds
  // could turn 504 before the kill.
  configDir = tunnelConfigDir(TOKENS, 30, port);
  server = runTsws(['-c', configDir]);
  target = await startTarget();
  await server.ready;
  base = `http://127.0.0.1:${port}`;
  ws = `ws://127.0.0.1:${port}`;
  alpha = startAlpha();
  beta = runAgent(['--server', ws, '--id', 'beta', '--token', 'beta-secret-token', '--send-to', 'alpha']);
  await Promise.all([up(alpha), up(beta)]);
});

afterAll(async () => {
  killAgents();
  killAll();
  await target.close();
  removeConfigDirs();
});

/** The value once it has stopped changing for a while (a liveness bound, not a timing assertion: what is asserted is the value). */
async function settled(read: () => number, quietMs = 300, limitMs = 20_000): Promise<number> {
  const deadline = Date.now() + limitMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
  throw new Error('the value never settled');
}

describe('HTTP through the tunnel', () => {
  it('serves the private page at /nodes/<id>/, with the path, query, headers and X-Forwarded-* passed on', async () => {
    const res = await fetch(`${base}/nodes/alpha/some/page?x=1&y=%20z`, { headers: { 'x-custom': 'kept' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-private')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('<h1>private page</h1><p>GET /some/page?x=1&y=%20z</p>');
    const seen = target.seen.find((s) => s.url === '/some/page?x=1&y=%20z');
    expect(seen?.headers).toMatchObject({ 'x-custom': 'kept', 'x-forwarded-prefix': '/nodes/alpha', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' });
    // The private node never sees the public node's Host.
    expect(seen?.headers.host).toBe(new URL(target.url).host);

    const bare = await fetch(`${base}/nodes/alpha?q=1`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/nodes/alpha/?q=1');
    const head = await fetch(`${base}/nodes/alpha/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('streams a POST body many frames and windows long to the private node, intact', async () => {
    const body = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const res = await fetch(`${base}/nodes/alpha/echo-hash`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: body.length, sha256: crypto.createHash('sha256').update(body).digest('hex') });
  });

  it('streams a response: the client has the first part while the private node still holds the rest', async () => {
    const res = await fetch(`${base}/nodes/alpha/stream`);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe('first part\n');
    target.releaseStream();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
    expect(rest).toBe('second part\n');
  });

  it('holds the private node back while the client does not read (backpressure end to end), then delivers every byte', async () => {
    const mib = 64;
    const sock = net.connect(Number(new URL(base).port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /nodes/alpha/flood?mib=64 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    sock.pause();
    // The target ends up waiting for 'drain' long before it has written everything: nothing on the way buffers it all.
    // The request reaches the target through the public node and the agent first: until then the read below is -1,
    // and a loaded machine can take longer than settled()'s quiet period to get it there.
    await eventually(() => target.flood.blocked, 'the target waiting for drain', 20_000);
    const heldAt = await settled(() => (target.flood.blocked ? target.flood.written : -1));
    expect(heldAt).toBeGreaterThan(0);
    expect(heldAt).toBeLessThan((mib / 2) * 1024 * 1024);
    let received = 0;
    let head = '';
    sock.on('data', (c: Buffer) => {
      if (head === '' || !head.includes('\r\n\r\n')) {
        head += c.toString('latin1');
        const at = head.indexOf('\r\n\r\n');
        if (at >= 0) received += Buffer.byteLength(head.slice(at + 4), 'latin1');
        return;
      }
      received += c.length;
    });
    sock.resume();
    await new Promise((r) => sock.once('close', r));
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head.toLowerCase()).toContain(`content-length: ${mib * 1024 * 1024}`);
    expect(received).toBe(mib * 1024 * 1024);
  });

  it('answers 504 when the private node does not answer in time, and cuts a response whose private side died mid-body', async () => {
    const cut = await fetch(`${base}/nodes/alpha/cut`);
    expect(cut.status).toBe(200);
    // The body stops without its end: fetch reports the truncation instead of a complete-looking page.
    await expect(cut.text()).rejects.toThrow();
    await setRequestTimeout(server, configDir, 1);
    try {
      const slow = await fetch(`${base}/nodes/alpha/hang`);
      expect(slow.status).toBe(504);
      expect(await slow.text()).toContain('did not answer within 1 s');
    } finally {
      await setRequestTimeout(server, configDir, 30);
    }
  });

  it('404 for a node nobody configured, 502 for a configured node that is not connected', async () => {
    const none = await fetch(`${base}/nodes/nobody/`);
    expect(none.status).toBe(404);
    const absent = await fetch(`${base}/nodes/gamma/`);
    expect(absent.status).toBe(502);
    expect(await absent.text()).toBe('node gamma is not connected\n');
    // beta is connected but has no --target: it takes messages only
    const noHttp = await fetch(`${base}/nodes/beta/`);
    expect(noHttp.status).toBe(502);
    expect(await noHttp.text()).toBe('node beta does not serve HTTP\n');
  });
});

describe('a reload of the public node (SIGHUP)', () => {
  it('keeps the joined nodes: their tunnels stay open and serve HTTP and messages under the new configuration', async () => {
    // This reload's line: the file's earlier tests reloaded too (setRequestTimeout).
    const from = server.lines.length;
    server.kill('SIGHUP');
    await server.waitFor((l) => l.event === 'reloaded' && server.lines.indexOf(l) >= from);
    const res = await fetch(`${base}/nodes/alpha/after-reload`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('GET /after-reload');
    alpha.type('after the reload');
    await beta.waitFor(isMessage('alpha', 'after the reload'), 'beta got the message sent after the reload');
    expect(alpha.lines.filter((l) => l.msg === 'tunnel up')).toHaveLength(1);
  });

  it('disconnects (4003) a node whose token the reload changed, and keeps the others', async () => {
    const gamma = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    expect(gamma.answer.type).toBe('welcome');
    const file = path.join(configDir, 'conf.d/localhost');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace('gamma:gamma-secret-token', 'gamma:a-new-gamma-token'));
    const reloads = server.lines.filter((l) => l.event === 'reloaded').length;
    server.kill('SIGHUP');
    expect(await gamma.client.closed).toEqual({ code: 4003, reason: 'refused' });
    await eventually(() => server.lines.filter((l) => l.event === 'reloaded').length > reloads, 'the reload was done', 30_000);
    expect((await fetch(`${base}/nodes/alpha/still-here`)).status).toBe(200);
    expect((await rawTunnel(ws, hello('gamma', 'gamma-secret-token'))).answer.type).toBe('refused');
    // Back as it was, for the tests below.
    fs.writeFileSync(file, original);
    server.kill('SIGHUP');
    await eventually(() => server.lines.filter((l) => l.event === 'reloaded').length > reloads + 1, 'the second reload was done', 30_000);
  });
});

describe('the agent', () => {
  it('killed: requests in flight and during the gap get 502; restarted, it re-registers and serves again', async () => {
    const hanging = fetch(`${base}/nodes/alpha/hang`);
    await eventually(() => target.seen.filter((s) => s.url === '/hang').length >= 2, 'the request reached the target');
    alpha.kill('SIGKILL');
    expect((await hanging).status).toBe(502);
    const during = await fetch(`${base}/nodes/alpha/`);
    expect(during.status).toBe(502);
    expect(await during.text()).toBe('node alpha is not connected\n');
    alpha = startAlpha();
    await up(alpha);
    const after = await fetch(`${base}/nodes/alpha/back`);
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('GET /back');
  });

  it('with a wrong token is refused and exits 1 instead of retrying', async () => {
    const bad = runAgent(['--server', ws, '--id', 'gamma', '--token', 'alpha-secret-token', '--target', target.url]);
    expect(await bad.exited).toBe(1);
    expect(bad.lines.find((l) => l.msg === 'the public node will not have this agent; stopping')).toMatchObject({ level: 50, reason: 'bad-credentials: unknown node id or wrong token' });
  });
});

describe('the handshake', () => {
  it('answers the same over HTTP (POST to the mount) and as a tunnel\'s first frame, for good and bad hellos', async () => {
    const cases: [string, number, number | undefined][] = [
      [hello('gamma', 'gamma-secret-token'), 200, undefined],
      [hello('gamma', 'wrong-token'), 403, 4003],
      [hello('nobody', 'whatever'), 403, 4003],
      [hello('gamma', 'gamma-secret-token', { v: 3 }), 400, 1008],
      [hello('Not An Id', 'x'), 400, 1008],
      [hello('gamma', 'gamma-secret-token', { url: 'ftp://x/' }), 400, 1008],
      ['{"type": "hello"', 400, 1008],
      ['{"type": "hi"}', 400, 1008],
    ];
    for (const [text, status, closeCode] of cases) {
      const viaHttp = await fetch(`${base}/nodes`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
      expect(viaHttp.status, text).toBe(status);
      const httpAnswer: unknown = await viaHttp.json();
      const { client, answer } = await rawTunnel(ws, text);
      expect(answer, text).toEqual(httpAnswer);
      if (closeCode === undefined) {
        expect(answer).toEqual({ type: 'welcome', v: 1, id: 'gamma', offers: ['http', 'messages'], heartbeatSecs: 20, window: 256 * 1024, messageWindow: 64, maxMessageBytes: 65536 });
        await client.close();
      } else {
        expect(answer.type).toBe('refused');
        expect((await client.closed).code, text).toBe(closeCode);
      }
    }
  });

  it('one live tunnel per id: the right token replaces the tunnel (closed 4001), a wrong one replaces nothing', async () => {
    const first = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    const second = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    expect(await first.client.closed).toEqual({ code: 4001, reason: 'replaced by a newer registration' });
    const intruder = await rawTunnel(ws, hello('gamma', 'not-the-token'));
    expect((await intruder.client.closed).code).toBe(4003);
    second.client.send('{"type":"ping"}');
    expect(JSON.parse(await second.client.nextText())).toEqual({ type: 'pong' });
    const list = (await (await fetch(`${base}/nodes`)).json()) as { nodes: { id: string; via: string }[] };
    expect(list.nodes.filter((n) => n.id === 'gamma')).toEqual([expect.objectContaining({ id: 'gamma', via: 'tunnel' })]);
    await second.client.close();
  });

  it("a node cannot answer, nor read, another node's requests", async () => {
    const rogue = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    const pending = fetch(`${base}/nodes/alpha/stream`);
    const before = target.seen.length;
    await eventually(() => target.seen.length > before, 'alpha got the request');
    for (let id = 1; id <= 64; id++) {
      rogue.client.send(JSON.stringify({ type: 'head', id, status: 200, headers: [['x-rogue', '1']] }));
      rogue.client.send(encodeData(id, Buffer.from('rogue bytes')));
      rogue.client.send(JSON.stringify({ type: 'end', id }));
    }
    rogue.client.send('{"type":"ping"}');
    await rogue.client.until((m) => m.text === '{"type":"pong"}');
    target.releaseStream();
    const res = await pending;
    expect(res.headers.get('x-rogue')).toBeNull();
    expect(await res.text()).toBe('first part\nsecond part\n');
    expect(rogue.client.received.filter((m) => m.isBinary || m.text.includes('"req"'))).toEqual([]);
    await rogue.client.close();
  });
});

describe('messages between nodes', () => {
  it('relays both ways between two agents, stamped with the sender\'s authenticated id', async () => {
    alpha.type('hello beta');
    await beta.waitFor(isMessage('alpha', 'hello beta'), 'beta got the message');
    beta.type('hello alpha');
    await alpha.waitFor(isMessage('beta', 'hello alpha'), 'alpha got the message');
    await alpha.waitFor((l) => l.event === 'sent' && l.to === 'beta', 'alpha heard the ack');
  });

  it('answers every message with an ack or a nack saying why; "from" is never the sender\'s to choose', async () => {
    const g = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    const ask = async (frame: Record<string, unknown>) => {
      g.client.send(JSON.stringify({ type: 'msg', ...frame }));
      return JSON.parse((await g.client.until((m) => m.text.includes(`"seq":${String(frame.seq)}`))).text) as Record<string, unknown>;
    };
    expect(await ask({ to: 'nobody', seq: 1, body: 1 })).toMatchObject({ type: 'nack', seq: 1, code: 'unknown-node' });
    expect(await ask({ to: 'web', seq: 2, body: 2 })).toMatchObject({ type: 'nack', seq: 2, code: 'not-connected' });
    expect(await ask({ to: 'beta', seq: 3, body: 'x'.repeat(70_000) })).toMatchObject({ type: 'nack', seq: 3, code: 'too-big' });
    expect(await ask({ to: 'beta', seq: 4, from: 'alpha', body: { n: 4 } })).toEqual({ type: 'ack', seq: 4 });
    await beta.waitFor(isMessage('gamma', { n: 4 }), 'beta got it from gamma');
    expect(beta.lines.some(isMessage('alpha', { n: 4 }))).toBe(false);
    await g.client.close();
  });

  it('reaches a node registered over HTTP by POSTing to its address, and takes its messages at <mount>/_message', async () => {
    const inbox: { auth: string | undefined; body: unknown }[] = [];
    const node = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        inbox.push({ auth: req.headers.authorization, body: JSON.parse(text) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(node.address() as AddressInfo).port}/inbox`;
    const reg = await fetch(`${base}/nodes`, { method: 'POST', body: hello('web', 'web-secret-token', { offers: ['messages'], url }) });
    expect(reg.status).toBe(200);

    const g = await rawTunnel(ws, hello('gamma', 'gamma-secret-token'));
    g.client.send(JSON.stringify({ type: 'msg', to: 'web', seq: 7, body: { hi: 'web' } }));
    expect(JSON.parse(await g.client.nextText())).toEqual({ type: 'ack', seq: 7 });
    expect(inbox).toEqual([{ auth: 'Bearer web-secret-token', body: { type: 'msg', from: 'gamma', to: 'web', body: { hi: 'web' } } }]);
    await g.client.close();

    const post = (body: Record<string, unknown>) => fetch(`${base}/nodes/_message`, { method: 'POST', body: JSON.stringify({ type: 'msg', ...body }) });
    const sent = await post({ from: 'web', token: 'web-secret-token', to: 'alpha', body: 'from the web' });
    expect([sent.status, await sent.json()]).toEqual([200, { type: 'ack' }]);
    await alpha.waitFor(isMessage('web', 'from the web'), 'alpha got the message from web');
    const forged = await post({ from: 'web', token: 'alpha-secret-token', to: 'alpha', body: 'forged' });
    expect(forged.status).toBe(403);
    // an HTTP-registered node is reached directly, never through /nodes/<id>/
    expect((await fetch(`${base}/nodes/web/`)).status).toBe(502);
    await new Promise((r) => node.close(r));
  });
});

describe('the public node restarts', () => {
  it('agents notice, reconnect by themselves (backoff), re-handshake, and the site is back', async () => {
    const ups = (a: AgentProcess) => a.lines.filter((l) => l.msg === 'tunnel up').length;
    const [alphaUps, betaUps] = [ups(alpha), ups(beta)];
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await alpha.waitFor((l) => l.msg === 'tunnel down; reconnecting', 'alpha saw the tunnel go');
    server = runTsws(['-c', configDir]);
    await server.ready;
    // The agents retry with backoff (0.5 s doubling to 30 s, equal jitter): after a start-up of 16 s or
    // more (7-32 s seen on a loaded machine) the next try may be 8 to 30 s away, past a 20 s bound.
    await eventually(() => ups(alpha) > alphaUps && ups(beta) > betaUps, 'both agents are back', 45_000);
    const res = await fetch(`${base}/nodes/alpha/again`);
    expect(await res.text()).toContain('GET /again');
    alpha.type('still here');
    await beta.waitFor(isMessage('alpha', 'still here'), 'messages flow again');
    // A restart of tsws and the agents' backoff: liveness bounds, not a timing assertion.
  }, 120_000);
});
