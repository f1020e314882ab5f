/**
 * @module Text with characters U+0080..U+00FF leaves tsws as UTF-8 on every path a plugin hands the transport a string: write, publish, HTTP body and header.
 *
 * V8 keeps such strings one byte per character; a transport build that sent
 * those bytes as they are (the old ABI-137 uWS.js did) would put Latin-1 on
 * the wire, which a websocket client refuses as invalid UTF-8. The
 * conformance suite checks the transport alone; this checks tsws's paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { OP, RawWebSocket, frame } from './helpers/raw-ws.ts';

const TEXT = 'Zoé: ça va, Noël? ½';
const utf8 = Buffer.from(TEXT);

const plugin = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
const TEXT = ${JSON.stringify(TEXT)};
export default definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol({
      name: 'latin',
      session: () => ({ hello: false }),
      callbacks: {
        established(conn) { conn.subscribe('news'); conn.session.hello = true; conn.requestWritable(); },
        receive(conn, data) { if (data.toString() === 'publish') conn.vhost.publish('news', TEXT); },
        writable(conn) {
          if (conn.session.hello) { conn.session.hello = false; conn.write(TEXT, false); conn.requestWritable(); return; }
          const msg = conn.nextPublished();
          if (msg) conn.write(msg.data, false);
        },
        http(txn) { txn.requestWritable(); },
        httpWritable(txn) {
          if (txn.session.hello) return void txn.end(TEXT);
          txn.session.hello = true;
          txn.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-text': TEXT });
          txn.requestWritable();
        },
      },
    }),
  ],
});
`;

let srv: Running;
beforeAll(async () => {
  const dir = makeConfigDir({
    plugins: { 'latin.ts': plugin },
    vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/t', origin: 'callback://latin' }], 'ws-protocols': [{ latin: {} }] }] },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv?.stop();
  removeConfigDirs();
});

describe('U+0080..U+00FF text leaves as UTF-8', () => {
  it('from conn.write and from vhost.publish', async () => {
    const ws = await RawWebSocket.open(srv.port(), 'latin');
    expect((await ws.nextData())?.payload.toString('hex')).toBe(utf8.toString('hex'));
    ws.send(frame(OP.text, 'publish'));
    expect((await ws.nextData())?.payload.toString('hex')).toBe(utf8.toString('hex'));
    ws.socket.destroy();
  });

  it('in an HTTP body and a header value', async () => {
    const r = await rawRequest(srv.port(), 'GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    // rawRequest reads bytes as latin1: UTF-8 bytes show as their latin1 reading.
    const asRead = utf8.toString('latin1');
    expect(/x-text: (.*)/i.exec(r.head)?.[1]).toBe(asRead);
    expect(r.body).toContain(asRead);
  });
});
