/** @module permessage-deflate per protocol on the fake transport: the listener's compressor routes, the route each upgrade takes, the offer passed on, the compress flag on writes. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { prepare } from '../app/prepare.ts';
import { TswsServer } from '../app/server.ts';
import { metricsFor } from '../metrics/prometheus.ts';
import { FakeTransport, type FakeListener } from '../transport/fake/fake-transport.ts';

/** Three echo protocols: one with no word on compression, one whose plugin asks for dedicated-4k, one whose plugin asks for shared. */
const echoes = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
const echo = (name: string, compression?: 'shared' | 'dedicated-4k') => defineProtocol<undefined, { out: string[] }>({
  name, ...(compression ? { compression } : {}),
  session: () => ({ out: [] }),
  callbacks: {
    receive(conn, data) { conn.session.out.push(data.toString()); conn.requestWritable(); },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); },
  },
});
export default definePlugin({ apiVersion: 1, protocols: [echo('plain'), echo('small-window', 'dedicated-4k'), echo('asks-shared', 'shared')] });`;

const OFFER = 'permessage-deflate; client_max_window_bits';

let server: TswsServer;
let listener: FakeListener;
const transport = new FakeTransport();

beforeAll(async () => {
  const dir = makeConfigDir({
    vhosts: {
      x: [{
        name: 'localhost', port: '0', interface: '127.0.0.1',
        // plain: the operator turns it on; asks-shared: the operator turns the plugin's choice off.
        'ws-protocols': [{ plain: { 'permessage-deflate': 'shared' }, 'small-window': {}, 'asks-shared': { 'permessage-deflate': '0' } }],
      }],
    },
    plugins: { 'echoes.ts': echoes },
  });
  const result = await prepare({ configDir: dir });
  if (!result.prepared) throw new Error(result.errors.map((e) => e.message).join('\n'));
  // "permessage-deflate" is the framework's option: no plugin is told of it, nor warns.
  expect(result.warnings.map((w) => w.code)).toEqual([]);
  server = await TswsServer.start(result.prepared, pino({ level: 'silent' }), { transport });
  listener = transport.at(server.listeners[0]?.port as number);
});

afterAll(async () => {
  await server?.stop(0);
  removeConfigDirs();
});

describe('permessage-deflate per protocol', () => {
  it('gives the listener one route per compressor its protocols use, "off" left out', () => {
    expect(listener.options.compressions).toEqual(['dedicated-4k', 'shared']);
  });

  it('routes an upgrade to its protocol\'s compressor and passes the client\'s offer on', () => {
    const res = listener.upgrade({ protocol: 'plain', headers: { 'sec-websocket-extensions': OFFER } });
    expect(res.upgradedAs).toEqual({ protocol: 'plain', extensions: OFFER, route: 'shared', deflate: true });
    res.socket?.deliver('hello');
    expect(res.socket?.sent.map((f) => [f.data.toString(), f.compress])).toEqual([['hello', true]]);
  });

  it('takes the plugin\'s own setting when the vhost says nothing', () => {
    const res = listener.upgrade({ protocol: 'small-window', headers: { 'sec-websocket-extensions': OFFER } });
    expect(res.upgradedAs).toMatchObject({ route: 'dedicated-4k', deflate: true });
  });

  it('lets the vhost\'s "permessage-deflate" turn a plugin\'s compression off: no compressor, no compress flag', () => {
    const res = listener.upgrade({ protocol: 'asks-shared', headers: { 'sec-websocket-extensions': OFFER } });
    expect(res.upgradedAs).toMatchObject({ route: 'off', deflate: false });
    res.socket?.deliver('hi');
    expect(res.socket?.sent.map((f) => f.compress)).toEqual([false]);
  });

  it('negotiates nothing for a client that offers nothing', () => {
    const res = listener.upgrade({ protocol: 'plain' });
    expect(res.upgradedAs).toMatchObject({ route: 'shared', extensions: '', deflate: false });
  });

  it('answers a refused upgrade on the route without a compressor', () => {
    expect(listener.upgrade({ protocol: 'nope', headers: { 'sec-websocket-extensions': OFFER } }).status).toMatch(/^400/);
  });

  it('shows which protocols compress in tsws_ws_compression', async () => {
    const text = await metricsFor(server.state, { cluster: undefined }).render();
    const lines = text.split('\n').filter((l) => l.startsWith('tsws_ws_compression{')).sort();
    expect(lines).toEqual([
      'tsws_ws_compression{vhost="localhost",protocol="plain",compression="shared"} 1',
      'tsws_ws_compression{vhost="localhost",protocol="small-window",compression="dedicated-4k"} 1',
    ]);
  });
});

describe('permessage-deflate values', () => {
  it('refuses an unknown word in a ws-protocols entry with TSWS_ERR_CONFIG_VALUE naming the words', async () => {
    const dir = makeConfigDir({ vhosts: { x: [{ name: 'localhost', port: '0', 'ws-protocols': [{ echo: { 'permessage-deflate': 'dedicated-5k' } }] }] } });
    const result = await prepare({ configDir: dir });
    expect(result.errors.map((e) => e.code)).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(result.errors[0]?.message).toMatch(/echo\.permessage-deflate.*"dedicated-5k" is not one of "off", "shared", "dedicated-3k"/);
  });

  it('refuses an unknown compression in a plugin with TSWS_ERR_PLUGIN_DESCRIPTOR', async () => {
    const bad = `import { definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({ apiVersion: 2, name: 'bad', protocols: (protocol) => [protocol({ name: 'bad', compression: 'always' as never, websocket: {} })] });`;
    const dir = makeConfigDir({ vhosts: { x: [{ name: 'localhost', port: '0', 'ws-protocols': [{ bad: {} }] }] }, plugins: { 'bad.ts': bad } });
    const result = await prepare({ configDir: dir });
    expect(result.errors.map((e) => e.code)).toEqual(['TSWS_ERR_PLUGIN_DESCRIPTOR']);
    expect(result.errors[0]?.message).toMatch(/"compression" must be one of 'off', 'shared'/);
  });
});
