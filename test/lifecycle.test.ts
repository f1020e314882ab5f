import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { get, rawRequest } from './helpers/raw-http.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/**
 * A protocol answering every websocket message and every request to its
 * mount with `<label>:<what it got>`, so a test sees which version of the
 * plugin file served it; its destroy logs the label and the reason.
 */
const verPlugin = (label: string) => `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
interface Session { out: string[]; chunks: Buffer[]; head: boolean }
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<{ label: string }, Session>({
  name: 'ver',
  session: () => ({ out: [], chunks: [], head: false }),
  callbacks: {
    init: () => ({ label: ${JSON.stringify(label)} }),
    destroy(vhost, why) { vhost.log.info({ event: 'ver-destroyed', label: vhost.state.label, why }, 'ver destroyed'); },
    receive(conn, data) { conn.session.out.push(conn.vhost.state.label + ':' + data.toString()); conn.requestWritable(); },
    writable(conn) {
      const m = conn.session.out.shift();
      if (m !== undefined) conn.write(m);
      if (conn.session.out.length > 0) conn.requestWritable();
    },
    http(txn) { if (txn.request.method === 'GET') txn.requestWritable(); },
    httpBody(txn, chunk) { txn.session.chunks.push(chunk); txn.vhost.log.info({ event: 'ver-body', bytes: chunk.length }, 'body chunk'); },
    httpBodyCompletion(txn) { txn.requestWritable(); },
    httpWritable(txn) {
      const body = txn.vhost.state.label + ':' + Buffer.concat(txn.session.chunks).toString();
      if (!txn.session.head) {
        txn.session.head = true;
        txn.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) });
        return txn.requestWritable();
      }
      txn.end(body);
    },
  },
})] });`;

const vhost = (name: string, port: number, extra: Record<string, unknown> = {}) => [
  { name, port: String(port), interface: '127.0.0.1', 'ws-protocols': [{ ver: {} }], mounts: [{ mountpoint: '/ver', origin: 'callback://ver' }], ...extra },
];

async function start(opts: { grace?: number; extra?: Record<string, unknown> } = {}) {
  const port = await freePort();
  const dir = makeConfigDir({
    conf: { global: { 'grace-secs': String(opts.grace ?? 30) } },
    vhosts: { first: vhost('first', port, opts.extra) },
    plugins: { 'ver.ts': verPlugin('v1') },
  });
  const p = runTsws(['-c', dir]);
  await p.ready;
  return { dir, port, p };
}

/** Sends a request whose body stays incomplete until `finish` is called: an exchange held in flight. */
function heldPost(port: number, body: string) {
  const half = Math.floor(body.length / 2);
  const sock = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c) => chunks.push(c));
  sock.on('error', () => undefined);
  const ended = new Promise<string>((resolve) => sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1'))));
  const sent = new Promise<void>((resolve) =>
    sock.once('connect', () => sock.write(`POST /ver HTTP/1.1\r\nHost: first\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`, () => resolve())),
  );
  return { sent, ended, finish: () => sock.write(body.slice(half)) };
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });

describe('SIGHUP: reload beside the open connections', () => {
  it('keeps 200 open websockets while a new vhost and a changed plugin serve new connections', async () => {
    const { dir, port, p } = await start();
    const clients = await Promise.all(Array.from({ length: 200 }, () => TestClient.open(`ws://127.0.0.1:${port}/`, 'ver')));
    for (const [i, c] of clients.entries()) c.send(`a${i}`);
    for (const [i, c] of clients.entries()) expect(await c.nextText()).toBe(`v1:a${i}`);

    const port2 = await freePort();
    fs.writeFileSync(path.join(dir, 'plugins/ver.ts'), verPlugin('v2'));
    fs.writeFileSync(path.join(dir, 'conf.d/second'), JSON.stringify({ vhosts: vhost('second', port2) }));
    p.kill('SIGHUP');
    const reloaded = await p.waitFor((l) => l.event === 'reloaded');
    expect(reloaded).toMatchObject({ generation: 2, added: [`127.0.0.1:${port2}`], removed: [], rebound: [] });

    // The open ones stay on the instance they started with, and none was closed.
    for (const [i, c] of clients.entries()) c.send(`b${i}`);
    for (const [i, c] of clients.entries()) expect(await c.nextText()).toBe(`v1:b${i}`);
    expect(clients.every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true);

    const fresh = await TestClient.open(`ws://127.0.0.1:${port}/`, 'ver');
    fresh.send('c');
    expect(await fresh.nextText()).toBe('v2:c');
    const second = await TestClient.open(`ws://127.0.0.1:${port2}/`, 'ver');
    second.send('d');
    expect(await second.nextText()).toBe('v2:d');
    expect((await rawRequest(port2, get('/ver'))).body).toBe('v2:');

    // The old instance goes once its last connection has.
    expect(p.lines.some((l) => l.event === 'ver-destroyed')).toBe(false);
    await Promise.all(clients.map((c) => c.close()));
    expect(await p.waitFor((l) => l.event === 'ver-destroyed')).toMatchObject({ label: 'v1', why: 'reload' });

    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.filter((l) => l.event === 'ver-destroyed').map((l) => [l.label, l.why])).toEqual([
      ['v1', 'reload'],
      ['v2', 'stop'],
      ['v2', 'stop'],
    ]);
  });

  it('refuses a broken config or plugin with the error logged, and goes on serving the last good one', async () => {
    const { dir, port, p } = await start();
    fs.writeFileSync(path.join(dir, 'conf.d/first'), JSON.stringify({ vhosts: [{ name: 'first', port: String(port), mountz: [] }] }));
    p.kill('SIGHUP');
    const failed = await p.waitFor((l) => l.event === 'reload-failed');
    expect(p.lines.some((l) => l.code === 'TSWS_ERR_CONFIG_UNKNOWN_KEY' && String(l.msg).includes('conf.d/first'))).toBe(true);
    expect(failed.msg).toMatch(/still serving the previous configuration/);

    fs.writeFileSync(path.join(dir, 'conf.d/first'), JSON.stringify({ vhosts: vhost('first', port) }));
    fs.writeFileSync(path.join(dir, 'plugins/ver.ts'), `${verPlugin('v2')}\nthis is not TypeScript`);
    p.kill('SIGHUP');
    await p.waitFor((l) => l.event === 'reload-failed' && l !== failed);
    expect(p.lines.some((l) => typeof l.code === 'string' && l.code.startsWith('TSWS_ERR_PLUGIN') && String(l.msg).includes('ver.ts'))).toBe(true);

    const c = await TestClient.open(`ws://127.0.0.1:${port}/`, 'ver');
    c.send('x');
    expect(await c.nextText()).toBe('v1:x');

    // Fixed, the next SIGHUP takes.
    fs.writeFileSync(path.join(dir, 'plugins/ver.ts'), verPlugin('v3'));
    p.kill('SIGHUP');
    await p.waitFor((l) => l.event === 'reloaded');
    const d = await TestClient.open(`ws://127.0.0.1:${port}/`, 'ver');
    d.send('y');
    expect(await d.nextText()).toBe('v3:y');
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('SIGHUP during a reload', () => {
  it('runs another reload after it, so an edit made while the first one ran is not lost', async () => {
    const { dir, port, p } = await start();
    const armed = path.join(dir, 'gate-armed');
    const waiting = path.join(dir, 'gate-waiting');
    // v2 holds its import (the first reload, past reading the files) while `armed` exists.
    fs.writeFileSync(armed, '');
    fs.writeFileSync(
      path.join(dir, 'plugins/ver.ts'),
      `import fs from 'node:fs';
if (fs.existsSync(${JSON.stringify(armed)})) {
  fs.writeFileSync(${JSON.stringify(waiting)}, '');
  await new Promise<void>((resolve) => { const t = setInterval(() => { if (!fs.existsSync(${JSON.stringify(armed)})) { clearInterval(t); resolve(); } }, 20); });
}
${verPlugin('v2')}`,
    );
    p.kill('SIGHUP');
    for (let i = 0; !fs.existsSync(waiting); i++) {
      if (i > 1500) throw new Error('the first reload never imported the plugin');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The edit the second SIGHUP is for.
    const port2 = await freePort();
    fs.writeFileSync(path.join(dir, 'conf.d/second'), JSON.stringify({ vhosts: vhost('second', port2) }));
    fs.writeFileSync(path.join(dir, 'plugins/ver.ts'), verPlugin('v3'));
    p.kill('SIGHUP');
    await p.waitFor((l) => l.event === 'reload-queued' || l.event === 'reload-busy');
    fs.rmSync(armed);
    await p.waitFor((l) => l.event === 'reloaded' && l.generation === 3);
    const c = await TestClient.open(`ws://127.0.0.1:${port}/`, 'ver');
    c.send('x');
    expect(await c.nextText()).toBe('v3:x');
    expect((await rawRequest(port2, get('/ver'))).body).toBe('v3:');
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('SIGTERM: graceful stop', () => {
  it('stops accepting, sends 1001 to every websocket, lets HTTP in flight finish, and exits 0', async () => {
    const { port, p } = await start();
    const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.open(`ws://127.0.0.1:${port}/`, 'ver')));
    const held = heldPost(port, '0123456789');
    await held.sent;
    await p.waitFor((l) => l.event === 'ver-body');

    p.kill('SIGTERM');
    await p.waitFor((l) => l.event === 'stopping');
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'going away' });
    expect(await refused(port)).toBe(true);
    expect(p.lines.some((l) => l.event === 'stopped')).toBe(false);

    held.finish();
    const reply = await held.ended;
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply.endsWith('\r\n\r\nv1:0123456789')).toBe(true);
    expect(await p.exited).toBe(0);
    expect(await p.waitFor((l) => l.event === 'stopped')).toMatchObject({ cut: 0 });
  });

  it('cuts what is still in flight when the grace period ends, and still exits 0', async () => {
    const { port, p } = await start({ grace: 1 });
    const held = heldPost(port, '0123456789');
    await held.sent;
    await p.waitFor((l) => l.event === 'ver-body');
    p.kill('SIGTERM');
    expect(await held.ended).toBe('');
    expect(await p.exited).toBe(0);
    expect(await p.waitFor((l) => l.event === 'stopped')).toMatchObject({ cut: 1 });
  });

  it('exits at once, with 1, on a second signal during the grace period', async () => {
    const { port, p } = await start({ grace: 600 });
    const held = heldPost(port, '0123456789');
    await held.sent;
    await p.waitFor((l) => l.event === 'ver-body');
    p.kill('SIGTERM');
    await p.waitFor((l) => l.event === 'stopping');
    p.kill('SIGINT');
    expect(await p.exited).toBe(1);
    expect(p.lines.some((l) => l.event === 'forced-exit' && l.signal === 'SIGINT')).toBe(true);
  });
});

describe('SIGUSR1: reopen access logs', () => {
  it('writes to a new file after the old one was renamed away, as logrotate does', async () => {
    const port = await freePort();
    const dir = makeConfigDir({ vhosts: { first: vhost('first', port, { 'access-log': 'access.log' }) }, plugins: { 'ver.ts': verPlugin('v1') } });
    const p = runTsws(['-c', dir], { cwd: dir });
    await p.ready;
    expect((await rawRequest(port, get('/ver?before'))).status).toBe(200);
    fs.renameSync(path.join(dir, 'access.log'), path.join(dir, 'access.log.1'));
    p.kill('SIGUSR1');
    await p.waitFor((l) => l.event === 'access-logs-reopened');
    expect((await rawRequest(port, get('/ver?after'))).status).toBe(200);
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const rotated = fs.readFileSync(path.join(dir, 'access.log.1'), 'utf8');
    const current = fs.readFileSync(path.join(dir, 'access.log'), 'utf8');
    expect(rotated).toContain('GET /ver?before');
    expect(rotated).not.toContain('GET /ver?after');
    expect(current).toContain('GET /ver?after');
    expect(current).not.toContain('GET /ver?before');
  });
});
