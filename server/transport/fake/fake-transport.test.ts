/** @module A whole TswsServer on the fake transport: upgrades and requests routed by Host to their vhost's protocol, replies observed, a stop's 1001. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from '../../../test/helpers/config-dir.ts';
import { prepare } from '../../app/prepare.ts';
import { TswsServer } from '../../app/server.ts';
import { FakeTransport, type FakeListener } from './fake-transport.ts';

/** `hello`: answers a message with "<vhost>:<message>", and GET with "hello from <vhost>". */
const hello = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, { out: string[] }>({
  name: 'hello',
  session: () => ({ out: [] }),
  callbacks: {
    receive(conn, data) { conn.session.out.push(conn.vhost.vhostName + ':' + data.toString()); conn.requestWritable(); },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); },
    http(txn) { txn.requestWritable(); },
    httpWritable(txn) {
      const body = 'hello from ' + txn.vhost.vhostName;
      if (txn.session.out.length > 0) return void txn.end(body);
      txn.session.out.push('head sent');
      txn.writeHead(200, { 'content-length': String(body.length) });
      txn.requestWritable();
    },
  },
})] });`;

let server: TswsServer;
let listener: FakeListener;
const transport = new FakeTransport();

beforeAll(async () => {
  const site = (name: string) => ({ name, port: '0', interface: '127.0.0.1', 'ws-protocols': [{ hello: {} }], mounts: [{ mountpoint: '/hi', origin: 'callback://hello' }] });
  const dir = makeConfigDir({ vhosts: { x: [site('a.example'), site('b.example')] }, plugins: { 'hello.ts': hello } });
  const result = await prepare({ configDir: dir });
  if (!result.prepared) throw new Error(result.errors.map((e) => e.message).join('\n'));
  server = await TswsServer.start(result.prepared, pino({ level: 'silent' }), { transport });
  const port = server.listeners[0]?.port as number;
  listener = transport.at(port);
});

afterAll(async () => {
  await server?.stop(0);
  removeConfigDirs();
});

describe('a server on the fake transport', () => {
  it('binds one fake listener for the two vhosts of one address', () => {
    expect(transport.listeners.length).toBe(1);
    expect(server.listeners[0]?.vhosts).toEqual(['a.example', 'b.example']);
  });

  it('upgrades to the protocol of the vhost the Host header names, and echoes the protocol asked for', () => {
    const res = listener.upgrade({ host: 'B.example:80', protocol: 'hello' });
    expect(res.status).toBe('101 Switching Protocols');
    expect(res.upgradedAs?.protocol).toBe('hello');
    res.socket?.deliver('x');
    expect(res.socket?.texts).toEqual(['b.example:x']);
  });

  it('gives an unknown Host the first vhost', () => {
    const res = listener.upgrade({ host: 'nobody.example', protocol: 'hello' });
    res.socket?.deliver('y');
    expect(res.socket?.texts).toEqual(['a.example:y']);
  });

  it('refuses a protocol the vhost does not offer with 400, and answers nothing but websocket version 13', () => {
    expect(listener.upgrade({ protocol: 'nope' }).status).toMatch(/^400/);
    expect(listener.upgrade({ protocol: 'hello', headers: { 'sec-websocket-version': '8' } }).status).toMatch(/^426/);
  });

  it('routes an HTTP request by Host to its vhost\'s callback mount', async () => {
    const res = listener.request({ url: '/hi', headers: { host: 'b.example' } });
    // The head and the body each take a writable; both run before the request handler returns.
    expect(res.status).toBe('200 OK');
    expect(res.body.toString()).toBe('hello from b.example');
    expect(res.ended).toBe(true);
  });

  it('closes the websockets with 1001 "going away" when the server stops', async () => {
    const res = listener.upgrade({ protocol: 'hello' });
    await server.stop(0);
    expect(res.socket?.ending).toMatchObject({ code: 1001, reason: 'going away', frame: true });
  });
});
