/**
 * @module Transport conformance: RFC 6455 and HTTP/1.1 behaviour of the uWS.js build that is loaded, on real sockets with raw bytes.
 *
 * Each case asserts what the RFC wants. Where a build deviates and nothing in
 * JavaScript can reach the cause, the case is listed in DEVIATIONS under that
 * build's id and runs as `it.fails`: it passes while the build still deviates
 * and fails the day a build fixes it, so the table cannot go stale.
 * docs/reference/transport.md shows the same table; a test in
 * test/docs.test.ts keeps the two in step.
 *
 * `npm run transport:candidates` runs this file against every candidate
 * binary (TSWS_UWS_BINARY), where no case is marked and each failure counts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBuild } from '../server/transport/uws/build.ts';
import type { TemplatedApp, UwsNative } from '../server/transport/uws/uws-native.ts';
import { transportBuild } from '../server/transport/uws/uws-adapter.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { OP, RawWebSocket, closePayload, frame } from './helpers/raw-ws.ts';
import { DEVIATIONS } from './transport-deviations.ts';

const build = transportBuild();
const known = DEVIATIONS[build.id] ?? {};
/** A case: plain where this build conforms, `it.fails` where DEVIATIONS says it does not. */
const conforms = (name: string, fn: () => Promise<void>) => (known[name] ? it.fails : it)(name, fn);

let srv: Running;
let port: number;
beforeAll(async () => {
  const dir = makeConfigDir({
    files: { 'www/index.html': 'alive' },
    vhosts: {
      x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: 'file://www' }], 'ws-protocols': [{ echo: {} }] }],
    },
  });
  srv = await startInProcess(dir);
  port = srv.port();
});
afterAll(async () => {
  await srv?.stop();
  removeConfigDirs();
});

/** Opens an echo websocket, sends `frames`, and returns how the server ended the connection. */
async function closeAfter(...frames: Buffer[]): Promise<{ code: number; frame: boolean }> {
  const ws = await RawWebSocket.open(port, 'echo');
  ws.send(...frames);
  const end = await ws.ended;
  return { code: end.code, frame: end.frame };
}

const invalidUtf8 = Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]);

describe(`RFC 6455 with ${build.id} on Node ${build.node}`, () => {
  conforms('echoes a message sent in fragments, with a ping between them answered by a pong', async () => {
    const ws = await RawWebSocket.open(port, 'echo');
    ws.send(frame(OP.text, 'frag', { fin: false }), frame(OP.ping, 'p'), frame(OP.continuation, 'mented', { fin: false }), frame(OP.continuation, '!'));
    const m = await ws.nextData();
    expect(m?.opcode).toBe(OP.text);
    expect(m?.payload.toString()).toBe('fragmented!');
    expect(ws.frames.some((f) => f.opcode === OP.pong && f.payload.toString() === 'p')).toBe(true);
    ws.send(frame(OP.close, closePayload(1000)));
    expect((await ws.ended).code).toBe(1000);
  });

  conforms('a data frame inside a fragmented message: close 1002', async () => {
    expect(await closeAfter(frame(OP.text, 'ab', { fin: false }), frame(OP.binary, 'x'))).toEqual({ code: 1002, frame: true });
  });

  conforms('a binary frame inside a fragmented text message is not delivered as one message', async () => {
    // What some builds do instead of closing: the text fragment and the binary frame merge into one binary message.
    const ws = await RawWebSocket.open(port, 'echo');
    ws.send(frame(OP.text, Buffer.from([0xff, 0xfe]), { fin: false }), frame(OP.binary, 'x'));
    const got = await ws.nextData();
    expect(got).toBeUndefined();
  });

  conforms('a 64-bit length with its most significant bit set: close 1002', async () => {
    expect(await closeAfter(frame(OP.binary, Buffer.alloc(0), { claimedLength: 1n << 63n }))).toEqual({ code: 1002, frame: true });
  });

  conforms('a close frame with a one-byte payload: close 1002', async () => {
    expect(await closeAfter(frame(OP.close, Buffer.from([0x03])))).toEqual({ code: 1002, frame: true });
  });

  conforms('an unmasked client frame: close 1002', async () => {
    expect(await closeAfter(frame(OP.text, 'bare', { masked: false }))).toEqual({ code: 1002, frame: true });
  });

  conforms('a reserved bit with no extension agreed: close 1002', async () => {
    expect(await closeAfter(frame(OP.text, 'rsv', { rsv: 0b100 }))).toEqual({ code: 1002, frame: true });
  });

  conforms('an unknown opcode: close 1002', async () => {
    expect(await closeAfter(frame(0x3, 'op'))).toEqual({ code: 1002, frame: true });
  });

  conforms('a fragmented control frame: close 1002', async () => {
    expect(await closeAfter(frame(OP.ping, 'p', { fin: false }))).toEqual({ code: 1002, frame: true });
  });

  conforms('a control frame over 125 bytes: close 1002', async () => {
    expect(await closeAfter(frame(OP.ping, Buffer.alloc(126)))).toEqual({ code: 1002, frame: true });
  });

  conforms('a close code no endpoint may send (999, 1004, 1005, 1006, 1016, 2999): close 1002', async () => {
    const codes = [999, 1004, 1005, 1006, 1016, 2999];
    const got = await Promise.all(codes.map((c) => closeAfter(frame(OP.close, closePayload(c)))));
    expect(got).toEqual(codes.map(() => ({ code: 1002, frame: true })));
  });

  conforms('a close frame with a valid code is answered with that code', async () => {
    expect(await closeAfter(frame(OP.close, closePayload(4000, 'bye')))).toEqual({ code: 4000, frame: true });
  });

  conforms('a registered close code a peer may send (1012-1014, 3000-3999) is answered with that code', async () => {
    const codes = [1012, 1013, 1014, 3000, 3999];
    const got = await Promise.all(codes.map((c) => closeAfter(frame(OP.close, closePayload(c)))));
    expect(got).toEqual(codes.map((code) => ({ code, frame: true })));
  });

  conforms('invalid UTF-8 in a text message: close 1007', async () => {
    expect(await closeAfter(frame(OP.text, invalidUtf8))).toEqual({ code: 1007, frame: true });
  });

  conforms('invalid UTF-8 in a close reason: close 1007', async () => {
    expect(await closeAfter(frame(OP.close, closePayload(1000, invalidUtf8)))).toEqual({ code: 1007, frame: true });
  });

  conforms('a message over the limit: close 1009', async () => {
    // echo's limit is 1 MiB
    expect(await closeAfter(frame(OP.binary, Buffer.alloc(1024 * 1024 + 1)))).toEqual({ code: 1009, frame: true });
  });
});

/** Sends `bytes` on one connection and returns every status line that came back before the server closed it. */
function statuses(bytes: string): Promise<number[]> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const chunks: Buffer[] = [];
    const bound = setTimeout(() => s.destroy(), 20_000);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(bound);
      resolve([...Buffer.concat(chunks).toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])));
    });
  });
}

describe(`HTTP/1.1 with ${build.id} on Node ${build.node}`, () => {
  for (const ch of ['_', '.', '~', '!', '#']) {
    conforms(`a header name with "${ch}" (a token character) is answered`, async () => {
      const r = await rawRequest(port, `GET / HTTP/1.1\r\nHost: localhost\r\nX${ch}Custom: 1\r\nConnection: close\r\n\r\n`);
      expect(r.status).toBe(200);
    });
  }

  conforms('two different Content-Length headers: 400, and nothing after them is served', async () => {
    const smuggled = 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const got = await statuses(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
    // The transport takes the first length; the framework refuses the request after its callback
    // returns (server/http/framing.ts), so uWS.js closes at the bytes that follow without serving them:
    // the client sees the 400, or nothing when the close overtakes it, never the smuggled GET's answer.
    expect(got.filter((s) => s !== 400)).toEqual([]);
    expect(got.length).toBeLessThanOrEqual(1);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_HTTP_BAD_BODY_HEADERS' && l.uri === '/')).toBe(true);
  });

  conforms('Content-Length with Transfer-Encoding: 400, and nothing after them is served', async () => {
    const smuggled = 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const got = await statuses(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`);
    expect(got).toEqual([400]);
  });

  conforms('a Transfer-Encoding whose last coding is not chunked: 400', async () => {
    expect(await statuses('POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nxyz')).toEqual([400]);
  });

  conforms('an HTTP/1.1 request without Host: 400', async () => {
    expect(await statuses('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).toEqual([400]);
  });

  conforms('an HTTP/1.0 request is answered', async () => {
    const r = await rawRequest(port, 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
    expect(r.status).toBe(200);
  });

  conforms('an absolute-form request target is answered', async () => {
    const r = await rawRequest(port, 'GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
  });

  conforms('no response header names the transport or its version, only the configured server-string', async () => {
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    expect(/^server: (.*)$/im.exec(r.head)?.[1]).toBe('tsws');
    expect(r.head).not.toMatch(/uwebsockets/i);
  });

  conforms('pipelined requests are answered in order', async () => {
    const one = (p: string, last = false) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    expect(await statuses(one('/') + one('/missing') + one('/', true))).toEqual([200, 404, 200]);
  });
});

/** A raw uWS.js app of the build under test on a free port; closed by the returned function. */
async function rawApp(setup: (app: TemplatedApp) => void): Promise<{ port: number; close: () => void }> {
  const uWS = loadBuild().native as UwsNative;
  const app = uWS.App();
  setup(app);
  const listenPort = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (token) => (token ? resolve(uWS.us_socket_local_port(token)) : reject(new Error('listen')))),
  );
  return { port: listenPort, close: () => app.close() };
}

describe(`the transport itself: ${build.id}`, () => {
  // V8 keeps a string whose characters are all below U+0100 one byte per character; a build that
  // hands those bytes over as they are sends Latin-1, which no websocket client accepts as text.
  conforms('a string of characters U+0080 to U+00FF is sent as UTF-8, in a message, a body and a header', async () => {
    const text = 'Zoé, ça va?';
    const app = await rawApp((a) =>
      a.ws('/*', { open: (ws) => void ws.send(text, false) }).get('/*', (res) => void res.writeHeader('X-Text', text).end(text)),
    );
    try {
      const ws = await RawWebSocket.open(app.port, undefined);
      expect((await ws.nextData())?.payload.toString('hex')).toBe(Buffer.from(text).toString('hex'));
      ws.socket.destroy();
      const r = await rawRequest(app.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const utf8AsLatin1 = Buffer.from(text).toString('latin1');
      expect([r.body, /x-text: (.*)/i.exec(r.head)?.[1]]).toEqual([utf8AsLatin1, utf8AsLatin1]);
    } finally {
      app.close();
    }
  });

  // A proxy or CGI mount answers after its request callback has returned; nginx answers pipelined
  // requests in order whatever their handlers do.
  conforms('pipelined requests answered after the request callback returns are answered in order', async () => {
    const app = await rawApp((a) =>
      a.any('/*', (res, req) => {
        const url = req.getUrl();
        let aborted = false;
        res.onAborted(() => (aborted = true));
        setTimeout(() => !aborted && res.cork(() => res.end(url)), 10);
      }),
    );
    try {
      const s = net.connect(app.port, '127.0.0.1', () => s.write('GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('error', () => undefined);
      await new Promise((resolve) => s.on('close', resolve));
      const bodies = [...Buffer.concat(chunks).toString('latin1').matchAll(/\r\n\r\n(\/p\d)/g)].map((m) => m[1]);
      expect(bodies).toEqual(['/p1', '/p2']);
    } finally {
      app.close();
    }
  });

  // A peer may hold a connection by sending one frame a byte at a time: uWS.js restarts idleTimeout on
  // every byte, partial frames included, and tells JavaScript nothing before the whole message is in,
  // so no bound on the time one message takes can be set from JavaScript (docs/reference/security.md).
  conforms('a message trickled a byte at a time is cut once idleTimeout has passed since it began', async () => {
    const app = await rawApp((a) => a.ws('/*', { idleTimeout: 8, sendPingsAutomatically: true, maxPayloadLength: 1024 * 1024, message: () => undefined }));
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const s = net.connect(app.port, '127.0.0.1', () =>
          s.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
        );
        let trickle: NodeJS.Timeout | undefined;
        // Twice the timeout, with uWS.js's 4-second ticks to spare.
        const bound = setTimeout(() => {
          clearInterval(trickle);
          s.destroy();
          resolve(false);
        }, 20_000);
        s.once('data', () => {
          s.write(frame(OP.binary, Buffer.alloc(0), { claimedLength: 512n * 1024n }));
          trickle = setInterval(() => s.write(Buffer.alloc(1)), 1000);
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(bound);
          clearInterval(trickle);
          resolve(true);
        });
      });
      expect(closed).toBe(true);
    } finally {
      app.close();
    }
  });

  // uNetworking/uWebSockets#1929: cork() after an upgrade done outside the upgrade handler read the
  // socket's old HTTP state from memory that had become the websocket's, and closed it. A request
  // marked Connection: close makes it happen every time (the PR's own reproduction).
  conforms('a websocket upgraded later, inside res.cork(), stays open', async () => {
    const app = await rawApp((a) =>
      a.ws('/*', {
        upgrade: (res, req, context) => {
          const key = req.getHeader('sec-websocket-key');
          let aborted = false;
          res.onAborted(() => (aborted = true));
          setTimeout(() => !aborted && res.cork(() => res.upgrade({}, key, '', '', context)), 10);
        },
        open: (ws) => void ws.send('hello'),
        message: (ws, m) => void ws.send(m),
      }),
    );
    try {
      const ws = await RawWebSocket.open(app.port, undefined, 'close');
      expect((await ws.nextData())?.payload.toString()).toBe('hello');
      ws.send(frame(OP.text, 'still there?'));
      expect((await ws.nextData())?.payload.toString()).toBe('still there?');
      ws.send(frame(OP.close, closePayload(1000)));
      expect((await ws.ended).frame).toBe(true);
    } finally {
      app.close();
    }
  });
});
