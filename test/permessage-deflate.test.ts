/// <reference lib="dom" />
/**
 * permessage-deflate from outside the process: a real tsws, the ws library
 * and Chromium as clients. It is negotiated only on protocols configured for
 * it, with the compressor configured; messages of every kind and size come
 * back intact; what crosses the wire is compressed (the socket's byte count);
 * a publication reaches a compressing member compressed; a client that offers
 * nothing still works.
 */
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { makeCert, removeCerts } from './helpers/certs.ts';
import { startInProcess } from './helpers/in-process.ts';
import { killAll, runTsws } from './helpers/process.ts';

/** Two echoes of our own: one whose plugin asks for a 4 KB dedicated compressor, one that says nothing (off). */
const ECHOES = `
import { definePlugin } from ${JSON.stringify(PLUGIN_API)};
const echo = (protocol: Parameters<Parameters<typeof definePlugin>[0]['protocols']>[0], name: string, compression?: 'dedicated-4k') => protocol({
  name, maxMessageSize: 1024 * 1024, ...(compression ? { compression } : {}),
  websocket: {
    session: () => ({ out: [] as { data: Buffer; isBinary: boolean }[] }),
    receive(conn, data, isBinary) { conn.session.out.push({ data, isBinary }); conn.requestWritable(); },
    writable(conn) {
      const m = conn.session.out.shift();
      if (m) conn.write(m.data, m.isBinary);
      if (conn.session.out.length > 0) conn.requestWritable();
    },
  },
});
export default definePlugin({ apiVersion: 2, name: 'echoes', protocols: (protocol) => [echo(protocol, 'echo-4k', 'dedicated-4k'), echo(protocol, 'echo-plain')] });`;

let port = 0;

beforeAll(async () => {
  const dir = makeConfigDir({
    vhosts: {
      localhost: [{
        name: 'localhost', port: '0', interface: '127.0.0.1',
        'ws-protocols': [{
          echo: { 'permessage-deflate': 'shared' },
          'echo-4k': {},
          'echo-plain': {},
          'lws-mirror-protocol': { 'permessage-deflate': 'dedicated-32k' },
        }],
      }],
    },
    plugins: { 'echoes.ts': ECHOES },
  });
  const server = runTsws(['-c', dir]);
  const [listener] = await server.ready;
  port = listener?.port ?? 0;
});

afterAll(() => {
  killAll();
  removeConfigDirs();
  removeCerts();
});

interface Opened {
  readonly ws: WebSocket;
  /** The response's Sec-WebSocket-Extensions, as sent. */
  readonly answered: string | undefined;
  /** The TCP socket under it, for the bytes that crossed the wire. */
  readonly socket: net.Socket;
}

function open(protocol: string, target = '/', offer = true, at = port): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${at}${target}`, protocol, { perMessageDeflate: offer });
    let answered: string | undefined;
    let socket: net.Socket | undefined;
    ws.on('upgrade', (res) => {
      answered = res.headers['sec-websocket-extensions'] as string | undefined;
      socket = res.socket;
    });
    ws.on('open', () => resolve({ ws, answered, socket: socket as net.Socket }));
    ws.on('error', reject);
  });
}

function next(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<void> {
  const back = next(ws);
  ws.send(data);
  const got = await back;
  expect(got.isBinary).toBe(typeof data !== 'string');
  expect(got.data.equals(Buffer.from(data))).toBe(true);
}

/** Highly compressible, and large: 300 KB of a short phrase. */
const LARGE_TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(6700);
const LARGE_BINARY = Buffer.alloc(256 * 1024, 7);

describe('permessage-deflate, with the ws library', () => {
  it('is negotiated with the shared compressor where the vhost asks for it, and round-trips every kind of message', async () => {
    const { ws, answered, socket } = await open('echo');
    expect(answered).toBe('permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    expect(ws.extensions).toContain('permessage-deflate');
    const before = socket.bytesRead;
    await roundTrip(ws, LARGE_TEXT);
    // 300 KB of text came back in far fewer bytes: the server compressed it.
    expect(socket.bytesRead - before).toBeLessThan(LARGE_TEXT.length / 10);
    await roundTrip(ws, LARGE_BINARY);
    await roundTrip(ws, 'hi');
    await roundTrip(ws, Buffer.from([1, 2, 3]));
    await roundTrip(ws, '');
    // Not compressible: still intact.
    await roundTrip(ws, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
    ws.close();
  });

  it('is negotiated with the plugin\'s dedicated 4 KB compressor (a 512-byte window: server_max_window_bits=9)', async () => {
    const { ws, answered, socket } = await open('echo-4k');
    expect(answered).toBe('permessage-deflate; client_no_context_takeover; server_max_window_bits=9');
    const before = socket.bytesRead;
    await roundTrip(ws, LARGE_TEXT);
    expect(socket.bytesRead - before).toBeLessThan(LARGE_TEXT.length / 10);
    await roundTrip(ws, 'small');
    await roundTrip(ws, LARGE_BINARY);
    ws.close();
  });

  it('is not negotiated on a protocol without it, though the client offers it: messages cross uncompressed', async () => {
    const { ws, answered, socket } = await open('echo-plain');
    expect(answered).toBeUndefined();
    expect(ws.extensions).toBe('');
    const before = socket.bytesRead;
    await roundTrip(ws, LARGE_TEXT);
    expect(socket.bytesRead - before).toBeGreaterThanOrEqual(LARGE_TEXT.length);
    await roundTrip(ws, 'hi');
    ws.close();
  });

  it('serves a client that offers nothing on a compressing protocol, uncompressed', async () => {
    const { ws, answered, socket } = await open('echo', '/', false);
    expect(answered).toBeUndefined();
    const before = socket.bytesRead;
    await roundTrip(ws, LARGE_TEXT);
    expect(socket.bytesRead - before).toBeGreaterThanOrEqual(LARGE_TEXT.length);
    await roundTrip(ws, Buffer.from([9]));
    ws.close();
  });

  it('delivers a publication compressed to a member that agreed to deflate, and plain to one that did not', async () => {
    const a = await open('lws-mirror-protocol', '/?mirror=deflate');
    const b = await open('lws-mirror-protocol', '/?mirror=deflate', false);
    expect(a.answered).toBe('permessage-deflate; client_no_context_takeover; server_max_window_bits=12');
    const message = 'mirror me! '.repeat(5000);
    const aBefore = a.socket.bytesRead;
    const bBefore = b.socket.bytesRead;
    const [gotA, gotB] = [next(a.ws), next(b.ws)];
    a.ws.send(message);
    expect((await gotA).data.toString()).toBe(message);
    expect((await gotB).data.toString()).toBe(message);
    expect(a.socket.bytesRead - aBefore).toBeLessThan(message.length / 10);
    expect(b.socket.bytesRead - bBefore).toBeGreaterThanOrEqual(message.length);
    a.ws.close();
    b.ws.close();
  });
});

describe('permessage-deflate across a reload', () => {
  it('re-binds the listener when a protocol turns compression on: new connections get it, open ones keep going', async () => {
    const vhosts = (deflate: string) => [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: { 'permessage-deflate': deflate } }] }];
    const dir = makeConfigDir({ vhosts: { localhost: vhosts('off') } });
    const srv = await startInProcess(dir);
    try {
      const before = await open('echo', '/', true, srv.port());
      expect(before.answered).toBeUndefined();
      fs.writeFileSync(path.join(dir, 'conf.d', 'localhost'), JSON.stringify({ vhosts: vhosts('shared') }));
      await srv.reload();
      const after = await open('echo', '/', true, srv.port());
      expect(after.answered).toBe('permessage-deflate; client_no_context_takeover; server_no_context_takeover');
      await roundTrip(after.ws, LARGE_TEXT);
      await roundTrip(before.ws, LARGE_TEXT);
      before.ws.close();
      after.ws.close();
    } finally {
      await srv.stop();
    }
  });
});

describe('permessage-deflate on a TLS listener', () => {
  it('gives each SNI name\'s vhost its own protocol\'s compressor (uWS.js has a router per name)', async () => {
    const a = makeCert('a.test');
    const b = makeCert('b.test');
    const vhost = (name: string, cert: { cert: string; key: string }, deflate: string) =>
      ({ name, port: '0', interface: '127.0.0.1', 'host-ssl-cert': cert.cert, 'host-ssl-key': cert.key, 'ws-protocols': [{ echo: { 'permessage-deflate': deflate } }] });
    const srv = await startInProcess(makeConfigDir({ vhosts: { x: [vhost('a.test', a, 'dedicated-8k'), vhost('b.test', b, 'shared')] } }));
    const answered = async (name: string) => {
      // ws hands servername on to tls.connect; its typings just do not list it.
      const ws = new WebSocket(`wss://127.0.0.1:${srv.port()}/`, 'echo', Object.assign({ ca: [a.pem, b.pem], headers: { host: name } }, { servername: name }));
      let header: unknown;
      ws.on('upgrade', (res) => (header = res.headers['sec-websocket-extensions']));
      await new Promise((resolve, reject) => {
        ws.on('open', resolve);
        ws.on('error', reject);
      });
      await roundTrip(ws, LARGE_TEXT);
      ws.close();
      return header;
    };
    try {
      expect(await answered('a.test')).toBe('permessage-deflate; client_no_context_takeover; server_max_window_bits=10');
      expect(await answered('b.test')).toBe('permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    } finally {
      await srv.stop();
    }
  });
});

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('permessage-deflate with Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** In the page: opens `protocol`, echoes a large compressible text and a small one, and reports the negotiated extensions. */
  const inPage = (page: Awaited<ReturnType<Browser['newPage']>>, protocol: string) =>
    page.evaluate(
      ({ url, protocol }) =>
        new Promise<{ extensions: string; large: boolean; small: string }>((resolve, reject) => {
          // window's: WebSocket in this file is the ws library's.
          const ws = new window.WebSocket(url, protocol);
          const large = 'chromium says hello, again and again. '.repeat(8000);
          const got: string[] = [];
          ws.onerror = () => reject(new Error('websocket error'));
          ws.onopen = () => {
            ws.send(large);
            ws.send('small');
          };
          ws.onmessage = (e) => {
            got.push(String(e.data));
            if (got.length < 2) return;
            resolve({ extensions: ws.extensions, large: got[0] === large, small: got[1] ?? '' });
            ws.close();
          };
        }),
      { url: `ws://127.0.0.1:${port}/`, protocol },
    );

  it('negotiates deflate on a compressing protocol and echoes through it', async () => {
    const page = await browser.newPage();
    const shared = await inPage(page, 'echo');
    expect(shared).toEqual({ extensions: 'permessage-deflate; client_no_context_takeover; server_no_context_takeover', large: true, small: 'small' });
    const dedicated = await inPage(page, 'echo-4k');
    expect(dedicated).toEqual({ extensions: 'permessage-deflate; client_no_context_takeover; server_max_window_bits=9', large: true, small: 'small' });
    await page.close();
  });

  it('negotiates nothing on a protocol without it', async () => {
    const page = await browser.newPage();
    expect(await inPage(page, 'echo-plain')).toEqual({ extensions: '', large: true, small: 'small' });
    await page.close();
  });
});
