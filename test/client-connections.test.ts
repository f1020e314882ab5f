import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeCert, removeCerts } from './helpers/certs.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { startInProcess, type LogLine, type Running } from './helpers/in-process.ts';
import { killAll, REPO, runTsws, type TswsProcess } from './helpers/process.ts';
import { eventually } from './helpers/ws-client.ts';

/*
 * Server A runs in this process; its vhosts each enable the client-probe
 * plugin (test/client-plugins/client-probe.ts) in one mode, which opens
 * client connections from init and logs every client callback. Server B is
 * another tsws process serving the shipped echo plugin on TCP and on a UNIX
 * socket (a path survives B's restart, a port 0 would not). The servers that
 * misbehave on purpose (silent, 404, untrusted TLS, a reader that stops) are
 * plain Node servers of this test.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-client-'));
const bSock = path.join(tmp, 'b.sock');
const confB = makeConfigDir({
  vhosts: { b: [{ name: 'b', port: '0', interface: '127.0.0.1', listen: [{ 'unix-socket': bSock }], 'ws-protocols': [{ echo: {} }] }] },
});

let b: TswsProcess;
let bUrl: string;
let a: Running;
const servers: (net.Server | http.Server)[] = [];
const sockets = new Set<net.Socket>();

async function startB(): Promise<TswsProcess> {
  const proc = runTsws(['-c', confB]);
  const listeners = await proc.ready;
  const tcp = listeners.find((l) => l.address.startsWith('127.0.0.1:'));
  if (!tcp) throw new Error(`B has no TCP listener: ${JSON.stringify(listeners)}`);
  bUrl = `ws://127.0.0.1:${tcp.port}/`;
  return proc;
}

async function listen<S extends net.Server>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A websocket server that answers the handshake, then reads nothing (no frame, no ping) until `resume()`: the slow side of a connection. */
interface SlowReader {
  readonly server: net.Server;
  /** Bytes read after the handshake. */
  received: number;
  resume(): void;
}

function slowReader(): SlowReader {
  const paused: net.Socket[] = [];
  const state: SlowReader = {
    received: 0,
    server: net.createServer((sock) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        const text = head.subarray(0, end).toString('latin1');
        const key = /sec-websocket-key:\s*(\S+)/i.exec(text)?.[1] ?? '';
        const proto = /sec-websocket-protocol:\s*([^,\r\n]+)/i.exec(text)?.[1]?.trim();
        const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${proto ? `Sec-WebSocket-Protocol: ${proto}\r\n` : ''}\r\n`);
        state.received += head.length - end - 4;
        sock.pause();
        paused.push(sock);
      };
      sock.on('data', onData);
    }),
    resume() {
      for (const s of paused.splice(0)) {
        s.on('data', (chunk: Buffer) => (state.received += chunk.length));
        s.resume();
      }
    },
  };
  return state;
}

const slow = slowReader();
const mute = slowReader();
const cert = makeCert('localhost');
const probes = (vhost: string, from = 0) => a.logs.slice(from).filter((l) => l.event === 'probe' && l.vhost === vhost);

/** The first probe line of `vhost` (from log index `from`) that matches; waits for it (bounded, so a miss names what was awaited). */
async function probe(vhost: string, match: (l: LogLine) => boolean, what: string, from = 0): Promise<LogLine> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = probes(vhost, from).find(match);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no probe line on ${vhost}: ${what}; saw ${JSON.stringify(probes(vhost, from))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const what = (w: string) => (l: LogLine) => l.what === w;

beforeAll(async () => {
  b = await startB();
  const refusedPort = await freePort();
  const slowPort = await listen(slow.server);
  const mutePort = await listen(mute.server);
  const silentPort = await listen(net.createServer(() => undefined));
  const notFound = http.createServer((_req, res) => res.writeHead(404).end());
  notFound.on('upgrade', (_req, sock: net.Socket) => sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  const notFoundPort = await listen(notFound);
  const tlsOpts = { cert: fs.readFileSync(cert.cert), key: fs.readFileSync(cert.key) };
  const untrustedPort = await listen(https.createServer(tlsOpts));
  const trusted = https.createServer(tlsOpts);
  new WebSocketServer({ server: trusted }).on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const trustedPort = await listen(trusted);

  const probe = (name: string, opts: Record<string, string>) => ({ name, port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'client-probe': opts }] });
  const confA = makeConfigDir({
    conf: { global: { 'plugin-dir': path.join(REPO, 'test/client-plugins') } },
    vhosts: {
      a: [
        probe('echo', { url: bUrl, protocol: 'echo', mode: 'echo', count: '5' }),
        probe('throw', { url: bUrl, protocol: 'echo', mode: 'throw' }),
        probe('flood', { url: `ws://127.0.0.1:${slowPort}/`, protocol: 'sink', mode: 'flood', count: '400' }),
        probe('refused', { url: `ws://127.0.0.1:${refusedPort}/` }),
        probe('timeout', { url: `ws://127.0.0.1:${silentPort}/`, 'timeout-ms': '300' }),
        probe('not-found', { url: `ws://127.0.0.1:${notFoundPort}/nowhere` }),
        probe('no-such-protocol', { url: bUrl, protocol: 'no-such-protocol' }),
        probe('tls-untrusted', { url: `wss://127.0.0.1:${untrustedPort}/` }),
        probe('tls-trusted', { url: `wss://127.0.0.1:${trustedPort}/`, protocol: 'echo', 'ca-file': cert.cert, servername: 'localhost' }),
        probe('mute', { url: `ws://127.0.0.1:${mutePort}/`, 'ping-ms': '100' }),
        probe('redo', { url: bUrl, protocol: 'echo', mode: 'redo', 'first-ms': '50', 'max-ms': '50' }),
        probe('reconnect', { url: `ws+unix://${bSock}:/`, protocol: 'echo', 'first-ms': '100', 'max-ms': '400', 'ping-ms': '1000' }),
      ],
    },
  });
  a = await startInProcess(confA);
});

afterAll(async () => {
  await a?.stop();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  killAll();
  removeConfigDirs();
  removeCerts();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('client connections from a plugin (vhost.connect)', () => {
  it('exchange messages with a plugin on another tsws process, one write per clientWritable', async () => {
    const established = await probe('echo', what('established'), 'established');
    expect(established.subprotocol).toBe('echo');
    // A write from clientEstablished and a second one in one clientWritable throw, coded as on served connections.
    expect((await probe('echo', what('write-outside'), 'write outside writable')).code).toBe('TSWS_ERR_WRITE_OUTSIDE_WRITABLE');
    expect((await probe('echo', what('second-write'), 'second write')).code).toBe('TSWS_ERR_BACK_TO_BACK_WRITE');
    const closed = await probe('echo', what('closed'), 'closed after the last echo');
    expect(closed).toMatchObject({ code: 1000, reason: 'done' });
    expect(probes('echo').filter(what('receive')).map((l) => l.text)).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5']);
    // Without a reconnect policy a clean close ends it: no retry.
    expect(probes('echo').filter(what('reconnecting'))).toEqual([]);
  });

  it('stops calling clientWritable while the socket holds more than the threshold, and resumes after it drains', async () => {
    const choked = await probe('flood', what('backpressure'), 'write reported backpressure');
    expect(choked.bufferedAmount).toBeGreaterThan(64 * 1024);
    const sentWhenChoked = choked.sent as number;
    expect(sentWhenChoked).toBeLessThan(400);
    // 400 chunks (25 MiB) do not fit in the kernel's buffers: until the reader reads, the flood cannot end.
    expect(probes('flood').filter(what('flood-done'))).toEqual([]);
    slow.resume();
    const resumed = await probe('flood', what('resumed'), 'a writable after the drain');
    expect(resumed.bufferedAmount).toBeLessThanOrEqual(64 * 1024);
    expect(resumed.sent).toBe(sentWhenChoked);
    expect((await probe('flood', what('flood-done'), 'all chunks written')).sent).toBe(400);
    // No clientWritable ever started with the socket over the threshold.
    expect(probes('flood').filter(what('violation'))).toEqual([]);
    await expect.poll(() => slow.received, { timeout: 20_000 }).toBeGreaterThanOrEqual(400 * 64 * 1024);
  });

  it('a throwing client callback closes that client only, logged with a coded error; the process and the sibling go on', async () => {
    const bad = await probe('throw', (l) => l.what === 'closed' && l.client === 'bad', 'the thrower closed');
    expect(bad.code).toBe(1011);
    const logged = a.logs.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW' && l.vhost === 'throw');
    expect(logged).toMatchObject({ callback: 'clientReceive' });
    expect(logged?.msg).toContain('client-probe');
    // The sibling sends once more after the thrower closed, and gets its echo.
    await probe('throw', (l) => l.what === 'receive' && l.client === 'good' && l.text === 'after', 'the sibling still echoes');
    expect(probes('throw').filter((l) => l.client === 'good' && l.what === 'closed')).toEqual([]);
    // A callback's throw ends that client for good: it is not retried.
    expect(probes('throw').filter(what('reconnecting'))).toEqual([]);
  });

  it('reports each failure with its own code, naming the url, plugin and protocol', async () => {
    const error = (vhost: string) => probe(vhost, what('connection-error'), 'a connection error');
    const refused = await error('refused');
    expect(refused.code).toBe('TSWS_ERR_CLIENT_REFUSED');
    expect(refused.message).toMatch(/plugin client-probe, vhost "refused", protocol "client-probe": client connection to ws:\/\/127\.0\.0\.1:\d+\/: refused/);
    const timedOut = await error('timeout');
    expect(timedOut.code).toBe('TSWS_ERR_CLIENT_TIMEOUT');
    expect(timedOut.message).toContain('not established within 300 ms');
    const notFound = await error('not-found');
    expect(notFound.code).toBe('TSWS_ERR_CLIENT_BAD_HANDSHAKE');
    expect(notFound.message).toContain('404');
    const noProtocol = await error('no-such-protocol');
    expect(noProtocol.code).toBe('TSWS_ERR_CLIENT_BAD_HANDSHAKE');
    expect(noProtocol.message).toContain('subprotocol "no-such-protocol"');
    expect(noProtocol.message).toContain('400');
    const tls = await error('tls-untrusted');
    expect(tls.code).toBe('TSWS_ERR_CLIENT_TLS');
    expect(tls.message).toMatch(/self.signed/i);
    // None of them established, and without a policy none is retried.
    for (const v of ['refused', 'timeout', 'not-found', 'no-such-protocol', 'tls-untrusted']) {
      expect(probes(v).map((l) => l.what)).toEqual(['connection-error']);
    }
  });

  it('connects over wss:// to a server whose certificate it is told to trust', async () => {
    expect((await probe('tls-trusted', what('established'), 'established over TLS')).subprotocol).toBe('echo');
  });

  it('the guide\'s example plugin (docs/guides/client-connections.md) loads and keeps its link to B', async () => {
    const guide = fs.readFileSync(path.join(REPO, 'docs/guides/client-connections.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(guide)?.[1] ?? '';
    expect(code).toContain('vhost.connect(');
    // Inside the repo, so that 'tsws/plugin' resolves as the guide has it.
    const dir = path.join(REPO, 'test/.tmp/guide-plugins');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'relay.ts'), code);
    const conf = makeConfigDir({
      conf: { global: { 'plugin-dir': dir } },
      vhosts: { r: [{ name: 'relay', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ relay: { upstream: bUrl } }] }] },
    });
    const r = await startInProcess(conf);
    try {
      await eventually(() => r.logs.some((l) => l.msg === 'from upstream' && l.text === 'hello'), 'the echo of its hello');
    } finally {
      await r.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts a connection whose server stops answering pings: 1006, coded as closed without a close frame', async () => {
    await probe('mute', what('established'), 'established');
    const cut = await probe('mute', what('closed'), 'cut for a missing pong');
    expect(cut).toMatchObject({ code: 1006, reason: 'no pong within 100 ms', lastError: 'TSWS_ERR_CLIENT_CLOSED' });
  });

  it('reconnect() starts the link over after the policy\'s delay, close() ends it for good', async () => {
    await probe('redo', (l) => l.what === 'closed' && String(l.code) === '1000', 'closed for good');
    const seen = probes('redo').filter((l) => l.what !== 'write-outside');
    expect(seen.map((l) => [l.what, l.text ?? l.code ?? l.attempt])).toEqual([
      ['established', undefined], ['receive', 'x'], ['closed', 4001], ['reconnecting', 1],
      // The backoff starts over at each established connection (resetOn: 'established'): attempt 1 again.
      ['established', undefined], ['receive', 'x'], ['closed', 4001], ['reconnecting', 1],
      ['established', undefined], ['receive', 'x'], ['closed', 1000],
    ]);
  });

  it('reconnects after the server process is killed and restarted: an event per attempt, delays doubling to the cap', async () => {
    await probe('reconnect', what('established'), 'first established');
    const mark = a.logs.length;
    // Pinged every second all along, and B answered: never cut.
    expect(probes('reconnect').filter(what('closed'))).toEqual([]);
    b.kill('SIGKILL');
    await b.exited;
    const lost = await probe('reconnect', what('closed'), 'closed when B died', mark);
    expect(lost).toMatchObject({ code: 1006, lastError: 'TSWS_ERR_CLIENT_CLOSED' });
    expect(lost.reason).not.toMatch(/pong/);
    await probe('reconnect', (l) => l.what === 'reconnecting' && (l.attempt as number) >= 4, 'four attempts', mark);
    const restart = a.logs.length;
    b = await startB();
    await probe('reconnect', what('established'), 'established again', mark);
    const attempts = probes('reconnect', mark).filter(what('reconnecting'));
    // jitter 0: the delays are exact, 100 doubling to the 400 cap.
    expect(attempts.slice(0, 4).map((l) => [l.attempt, l.delayMs])).toEqual([[1, 100], [2, 200], [3, 400], [4, 400]]);
    expect(attempts.every((l) => (l.delayMs as number) <= 400)).toBe(true);
    // While B was down each failure reached the plugin coded: nobody listened on the socket.
    const errors = a.logs.slice(mark, restart).filter((l) => l.event === 'probe' && l.vhost === 'reconnect' && l.what === 'connection-error');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(errors.map((l) => l.code))).toEqual(new Set(['TSWS_ERR_CLIENT_REFUSED']));
  });

  it('closes its client connections at destroy (reload and stop), before the plugin\'s destroy; the new configuration opens its own', async () => {
    const conf = makeConfigDir({
      conf: { global: { 'plugin-dir': path.join(REPO, 'test/client-plugins') } },
      vhosts: { k: [{ name: 'keep', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'client-probe': { url: bUrl, protocol: 'echo' } }] }] },
    });
    const k = await startInProcess(conf);
    const lines = (from: number) => k.logs.slice(from).filter((l) => l.event === 'probe').map((l) => [l.what, l.code ?? l.why]);
    try {
      await eventually(() => lines(0).some(([w]) => w === 'established'), 'established');
      const mark = k.logs.length;
      await k.reload();
      await eventually(() => lines(mark).some(([w]) => w === 'established'), 'the new configuration established');
      await eventually(() => lines(mark).some(([w]) => w === 'destroy'), 'the old configuration destroyed');
      const reload = lines(mark);
      // The old configuration's link closed first (1001), then its destroy ran; the new one's link is up.
      expect(reload.filter(([w]) => w !== 'write-outside' && w !== 'established')).toEqual([['closed', 1001], ['destroy', 'reload']]);
      const stopMark = k.logs.length;
      await k.stop();
      expect(lines(stopMark)).toEqual([['closed', 1001], ['destroy', 'stop']]);
    } finally {
      await k.stop();
    }
  });
});
