import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { get, rawRequest } from './helpers/raw-http.ts';
import { TestClient } from './helpers/ws-client.ts';

let server: TswsProcess;
let port: number;
let baselineKb: number;

const rssKb = () => Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1]);

/**
 * Sends raw bytes on a fresh socket; resolves with what came back once the
 * server closes, or has gone quiet for `quietMs` after answering (a kept-alive
 * reply). The quiet wait starts with the first byte back, so a slow server
 * (a loaded CI machine) is waited for, not taken for a silent one.
 */
function hit(data: Buffer | string, quietMs = 300): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(bound);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    // Liveness bound only: what a server that neither answers nor closes gets compared with.
    const bound = setTimeout(finish, 20_000);
    s.on('data', (c) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    });
    s.on('close', finish);
    s.on('error', () => undefined);
  });
}

/**
 * Upgrades a raw socket to a websocket, then (as a client must: after the 101,
 * RFC 6455 4.1) sends `attack`; resolves once the server closes it, or after a
 * liveness bound with `closed: false`.
 */
function upgradeThen(attack: Buffer): Promise<{ head: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(handshake()));
    let got = Buffer.alloc(0);
    let head = '';
    const finish = (closed: boolean) => {
      clearTimeout(bound);
      s.destroy();
      resolve({ head, closed });
    };
    const bound = setTimeout(() => finish(false), 20_000);
    s.on('data', (c) => {
      if (head) return;
      got = Buffer.concat([got, c]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = got.subarray(0, end).toString('latin1');
      s.write(attack);
    });
    // Closed with the attacker's bytes unread, the server's kernel answers with a reset: an error, then close.
    s.on('error', () => undefined);
    s.on('close', () => finish(true));
  });
}

/** A masked client frame, the way a websocket client must send them. */
function frame(opcode: number, payload: Buffer, fin = true, claimedLength?: bigint): Buffer {
  const mask = crypto.randomBytes(4);
  const len = claimedLength ?? BigInt(payload.length);
  let head: Buffer;
  if (len < 126n) head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | Number(len)]);
  else if (len < 65536n) head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, Number(len >> 8n), Number(len & 255n)]);
  else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(len, 2);
  }
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([head, mask, body]);
}

const handshake = (extra = '') =>
  `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: echo\r\n${extra}\r\n`;

/** After every attack: a page and an echo round trip still work. */
async function stillServing(): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/`);
  expect(await r.text()).toBe('alive');
  const c = await TestClient.open(`ws://127.0.0.1:${port}/`, 'echo');
  c.send('ping');
  expect(await c.nextText()).toBe('ping');
  await c.close();
}

beforeAll(async () => {
  const dir = makeConfigDir({
    conf: { global: { 'ip-limit-wsi': '50' } },
    files: { 'www/index.html': 'alive', 'secret.txt': 'top secret' },
    vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: 'file://www' }], 'ws-protocols': [{ echo: { 'max-queue': '64' } }] }] },
  });
  server = runTsws(['-c', dir]);
  port = (await server.ready)[0]?.port ?? 0;
  for (let i = 0; i < 20; i++) await stillServing();
  baselineKb = rssKb();
});
afterAll(() => {
  killAll();
  removeConfigDirs();
});

describe('hostile input', () => {
  it('survives malformed request lines and headers', async () => {
    for (const junk of ['\x00\x01\x02\x03', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', `${'A'.repeat(10000)} / HTTP/1.1\r\n\r\n`, 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 'GET / HTTP/1.1\r\n: empty\r\n\r\n', crypto.randomBytes(4096).toString('latin1')]) {
      await hit(junk);
    }
    await stillServing();
  });

  it('survives header floods and oversized headers', async () => {
    await hit(`GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`);
    await hit(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1 << 20)}\r\n\r\n`);
    await hit(`GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'c=1; '.repeat(50000)}\r\n\r\n`);
    await stillServing();
  });

  it('never serves outside the mount, whatever the encoding', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%252e%252e/secret.txt', '/..%2fsecret.txt', '/..%5csecret.txt', '/..\\secret.txt', '/%00/../secret.txt', '/%c0%ae%c0%ae/secret.txt', '/.%2e/secret.txt']) {
      const r = await rawRequest(port, get(p));
      expect(r.body).not.toContain('top secret');
    }
    await stillServing();
  });

  it('refuses bad websocket handshakes', async () => {
    const answers = await Promise.all([
      hit(handshake().replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8')),
      hit(handshake().replace(/Sec-WebSocket-Key: [^\r]+\r\n/, '')),
      hit(handshake().replace(/Sec-WebSocket-Key: [^\r]+/, 'Sec-WebSocket-Key: short')),
      hit(handshake().replace('Sec-WebSocket-Protocol: echo', 'Sec-WebSocket-Protocol: nonsense')),
    ]);
    const [version8, noKey, shortKey, badProtocol] = answers.map((a) => a.toString());
    // RFC 6455 4.4: an unsupported version gets 426 naming the one we speak
    expect(version8).toMatch(/^HTTP\/1\.1 426 [^]*Sec-WebSocket-Version: 13/i);
    // without a proper key uWS.js does not see an upgrade at all; tsws answers 400, not the page (RFC 6455 4.2.1)
    expect(noKey).toMatch(/^HTTP\/1\.1 400 [^]*no Sec-WebSocket-Key/);
    expect(shortKey).toMatch(/^HTTP\/1\.1 400 [^]*is not 16 bytes in base64/);
    expect(badProtocol).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
  });

  it('closes connections that send garbage, oversized or fragmented frames, or invalid UTF-8', async () => {
    const attacks = [
      Buffer.alloc(8192, 0xf5), // garbage after the upgrade: reserved bits and a reserved opcode
      Buffer.alloc(8192, 0xff), // garbage claiming a 2^64-1 byte frame
      frame(0x2, Buffer.alloc(0), true, 1n << 62n), // a frame claiming 4 EiB
      frame(0x2, Buffer.alloc(2 * 1024 * 1024 + 100)), // past the transport's cap
      Buffer.concat([frame(0x2, Buffer.alloc(60000), false), ...Array.from({ length: 40 }, () => frame(0x0, Buffer.alloc(60000), false))]), // endless fragments
      frame(0x1, Buffer.from([0xc3, 0x28, 0xa0, 0xa1])), // invalid UTF-8 in a text frame
      frame(0x9, Buffer.alloc(200)), // a control frame over 125 bytes
    ];
    for (const a of attacks) {
      const r = await upgradeThen(a);
      expect(r.head).toMatch(/^HTTP\/1\.1 101 /);
      expect([attacks.indexOf(a), r.closed]).toEqual([attacks.indexOf(a), true]);
    }
    await stillServing();
  });

  it('refuses a connection flood past ip-limit-wsi and recovers when it ends', async () => {
    const flood = await Promise.all(Array.from({ length: 200 }, () => new TestClient(`ws://127.0.0.1:${port}/`, 'echo')).map((c) => c.opened.then(() => c, () => c)));
    const open = flood.filter((c) => c.ws.readyState === c.ws.OPEN);
    expect(open.length).toBe(50);
    await Promise.all(flood.map((c) => c.close()));
    await stillServing();
  });

  it('is back near its memory baseline afterwards', async () => {
    for (let i = 0; i < 20; i++) await stillServing();
    // Allocators keep some of what they got; a leak per attack would be far more than this.
    expect(rssKb() - baselineKb).toBeLessThan(64 * 1024);
  });
});
