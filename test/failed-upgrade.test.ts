import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawHead, rawRequest } from './helpers/raw-http.ts';
import { TestClient } from './helpers/ws-client.ts';

const PLUGIN = `import { definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({ apiVersion: 2, protocols: (protocol) => [protocol({ name: 'p', websocket: {} })] });
`;
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** An opening handshake for `/`, with its method and key as given (key undefined: no header). */
function handshake(method: string, key: string | undefined): string {
  return `${method} / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
    `${key === undefined ? '' : `Sec-WebSocket-Key: ${key}\r\n`}Sec-WebSocket-Protocol: p\r\nContent-Length: 0\r\n\r\n`;
}

let srv: Running;
beforeAll(async () => {
  srv = await startInProcess(makeConfigDir({
    plugins: { 'p.ts': PLUGIN },
    files: { 'site/index.html': 'the index page' },
    vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: 'file://site' }], 'ws-protocols': [{ p: {} }] }] },
  }));
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

describe('a request asking for a websocket that is no valid opening handshake', () => {
  it('gets 400 with what is wrong, never the file at its path (RFC 6455 4.2.1)', async () => {
    for (const [method, key, detail] of [
      ['GET', 'abc', 'abc&#34; is not 16 bytes in base64'],
      ['GET', '', 'no Sec-WebSocket-Key'],
      ['GET', undefined, 'no Sec-WebSocket-Key'],
      // 24 characters, which uWS.js would upgrade, but no base64 of 16 bytes
      ['GET', '!!!!!!!!!!!!!!!!!!!!!!!!', 'is not 16 bytes in base64'],
      ['POST', KEY, 'a websocket upgrade is a GET, not POST'],
    ] as const) {
      const r = await rawRequest(srv.port(), handshake(method, key));
      expect({ method, key, status: r.status }).toEqual({ method, key, status: 400 });
      expect(r.body).toContain(detail);
      expect(r.body).not.toContain('the index page');
    }
    expect(srv.logs.filter((l) => l.code === 'TSWS_ERR_UPGRADE_BAD_HANDSHAKE')).toHaveLength(5);
  });

  it('leaves the rest alone: a valid handshake upgrades, a plain GET (or another Upgrade) gets the file', async () => {
    expect((await rawHead(srv.port(), handshake('GET', KEY))).status).toBe(101);
    const c = await TestClient.open(srv.wsUrl('/'), 'p');
    await c.close();
    const page = await rawRequest(srv.port(), 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect([page.status, page.body]).toEqual([200, 'the index page']);
    const h2c = await rawRequest(srv.port(), 'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: h2c\r\nConnection: close\r\n\r\n');
    expect([h2c.status, h2c.body]).toEqual([200, 'the index page']);
  });
});
