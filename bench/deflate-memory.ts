/**
 * @module Server memory per websocket for each permessage-deflate choice: idle, and after one echoed message each (docs/reference/transport.md).
 *
 * `npx tsx bench/deflate-memory.ts [connections=2000]`. For each choice a
 * fresh `bin/tsws.mjs` serves `echo` with that "permessage-deflate"; this
 * process opens the connections over raw sockets (offering
 * `permessage-deflate; client_max_window_bits`, as browsers do), holds them
 * idle, then has each send one 200-byte text message and read its echo.
 * Figures: the server's RSS over its freshly started RSS, per connection.
 * A compressor's memory is only resident once used, hence both columns.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { rssBytes, sleep, startChild } from './lib/proc.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const CONNS = Number(process.argv[2] ?? 2000);
const CHOICES = ['off', 'shared', 'dedicated-4k', 'dedicated-32k', 'dedicated-256k'] as const;
const OFFER = 'permessage-deflate; client_max_window_bits';
/** One masked text frame (mask key 0: the payload as is), 200 compressible bytes. */
const PAYLOAD = Buffer.from('hello deflate! '.repeat(14).slice(0, 200));
const FRAME = Buffer.concat([Buffer.from([0x81, 0x80 | 126, PAYLOAD.length >> 8, PAYLOAD.length & 255, 0, 0, 0, 0]), PAYLOAD]);

function configDir(choice: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsws-deflate-${choice}-`));
  fs.mkdirSync(path.join(dir, 'conf.d'));
  fs.writeFileSync(path.join(dir, 'conf'), JSON.stringify({ global: { 'ip-limit-wsi': '0' } }));
  const echo = choice === 'off' ? {} : { 'permessage-deflate': choice };
  fs.writeFileSync(path.join(dir, 'conf.d', 'bench'), JSON.stringify({ vhosts: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo }] }] }));
  return dir;
}

/** Resolves with the socket and the response's Sec-WebSocket-Extensions once the 101 is read. */
function upgrade(port: number): Promise<{ socket: net.Socket; extensions: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo\r\nSec-WebSocket-Extensions: ${OFFER}\r\n\r\n`,
      );
    });
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      resolve({ socket, extensions: /^sec-websocket-extensions: (.*)$/im.exec(head.slice(0, end))?.[1] ?? '' });
    };
    socket.on('data', onData);
  });
}

/** Sends one frame and resolves once any bytes of the echo arrived. */
function echoOnce(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('data', () => resolve());
    socket.write(FRAME);
  });
}

async function inBatches<T, R>(items: readonly T[], size: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return out;
}

async function measure(choice: string) {
  const dir = configDir(choice);
  const server = startChild(process.execPath, [path.join(REPO, 'bin/tsws.mjs'), '-c', dir], { cwd: REPO });
  try {
    const ready = JSON.parse(await server.waitLine((l) => l.includes('"event":"ready"'))) as { listeners: { port: number }[] };
    const port = ready.listeners[0]?.port ?? 0;
    await sleep(1000);
    const base = rssBytes(server.pid);
    const conns = await inBatches(Array.from({ length: CONNS }, (_, i) => i), 100, () => upgrade(port));
    await sleep(2000);
    const idle = rssBytes(server.pid);
    await inBatches(conns, 100, (c) => echoOnce(c.socket));
    await sleep(2000);
    const used = rssBytes(server.pid);
    for (const c of conns) c.socket.destroy();
    return { choice, extensions: conns[0]?.extensions ?? '', base, idle: (idle - base) / CONNS, used: (used - base) / CONNS };
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const choice of CHOICES) {
  const r = await measure(choice);
  rows.push(r);
  process.stderr.write(`${choice}: ${r.extensions || '(none)'}\n`);
}
console.log(`${CONNS} connections, Node ${process.versions.node}, ${os.cpus()[0]?.model ?? 'unknown CPU'}\n`);
console.log('| permessage-deflate | answered | fresh server RSS | idle, per connection | after one echoed message, per connection |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) {
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(`| \`${r.choice}\` | ${r.extensions ? `\`${r.extensions}\`` : '(none)'} | ${(r.base / 2 ** 20).toFixed(1)} MiB | ${kib(r.idle)} | ${kib(r.used)} |`);
}
