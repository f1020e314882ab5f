/** @module mountUpgrades: a protocol that takes every websocket upgrade under its callback:// mounts, whatever subprotocol, and answers with the subprotocol it chooses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';

/** 'relay' takes /r/...; its filter decides by the path below the mount. Plain JS: the loader needs no types. */
const PLUGIN = `
export default { apiVersion: 1, protocols: [{
  name: 'relay',
  mountUpgrades: true,
  session: (vhost, req) => ({ seen: vhost.state.seen.get(req) ?? 'no filter' }),
  callbacks: {
    init: () => ({ seen: new WeakMap(), dropped: 0, release: undefined }),
    filter(req, vhost) {
      vhost.state.seen.set(req, JSON.stringify({ mountpoint: req.mountpoint ?? null, pathInMount: req.pathInMount ?? null }));
      const requested = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      switch (req.pathInMount) {
        case '/deny': return { refuse: 451, reason: 'not here' };
        case '/wrong': return { accept: true, protocol: 'never-asked' };
        case '/junk': return {};
        case '/junk-string': return 'yes please';
        case '/later': return new Promise((resolve) => {
          vhost.state.release = () => resolve({ accept: true, protocol: '', dropped: () => vhost.state.dropped++ });
        });
        default: return { accept: true, protocol: requested.at(-1) ?? '' };
      }
    },
    established(conn) { conn.requestWritable(); },
    writable(conn) { conn.write(conn.session.seen); },
  },
}, {
  name: 'plain',
  session: (vhost, req) => JSON.stringify({ mountpoint: req.mountpoint ?? null }),
  callbacks: {
    established(conn) { conn.requestWritable(); },
    writable(conn) { conn.write('plain ' + conn.session); },
  },
}] };
`;

let srv: Running;
let relayState: () => { dropped: number; release: (() => void) | undefined };

beforeAll(async () => {
  srv = await startInProcess(
    makeConfigDir({
      plugins: { 'relay.js': PLUGIN },
      vhosts: {
        x: [{
          name: 'localhost', port: '0', interface: '127.0.0.1',
          mounts: [{ mountpoint: '/r', origin: 'callback://relay' }, { mountpoint: '/p', origin: 'callback://plain' }],
          'ws-protocols': [{ plain: { default: '1' } }, { relay: {} }],
        }],
      },
    }),
  );
  relayState = () => srv.server.hosts.find((h) => h.protocol === 'relay')?.state as { dropped: number; release: (() => void) | undefined };
});
afterAll(async () => {
  await srv?.stop();
  removeConfigDirs();
});

function status(url: string, protocols?: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = new WebSocket(url, protocols);
    c.on('unexpected-response', (_req, res) => {
      c.terminate();
      resolve(res.statusCode ?? 0);
    });
    c.on('open', () => {
      c.terminate();
      resolve(101);
    });
    c.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

describe('a protocol with mountUpgrades', () => {
  it('takes an upgrade under its mount whatever subprotocol it names, sees where it fell, and answers with the subprotocol it chose', async () => {
    const c = await TestClient.open(srv.wsUrl('/r/deep/path?q=1'), ['chat', 'chat-v2']);
    expect(c.ws.protocol).toBe('chat-v2');
    // the session got the very request object the filter saw
    expect(JSON.parse(await c.nextText())).toEqual({ mountpoint: '/r', pathInMount: '/deep/path' });
    await c.close();
    const none = await TestClient.open(srv.wsUrl('/r/'));
    expect(none.ws.protocol).toBe('');
    await none.close();
  });

  it('refuses with the filter\'s status; an accept naming a subprotocol the client did not ask for is a 500', async () => {
    expect(await status(srv.wsUrl('/r/deny'))).toBe(451);
    // A plain-JS filter answering something else refuses, as before there was {accept}.
    expect(await status(srv.wsUrl('/r/junk'))).toBe(403);
    expect(await status(srv.wsUrl('/r/junk-string'))).toBe(403);
    expect(await status(srv.wsUrl('/r/wrong'), ['chat'])).toBe(500);
    expect(srv.logs.some((l) => l.msg.includes('"never-asked", which the client did not ask for'))).toBe(true);
  });

  it('tells the filter when an upgrade it accepted was dropped (the client left while it decided)', async () => {
    const c = new WebSocket(srv.wsUrl('/r/later'));
    c.on('error', () => undefined);
    await eventually(() => relayState().release !== undefined, 'the filter is deciding');
    const aborted = () => srv.server.state.counters.http('localhost').byStatus[499] ?? 0;
    const before = aborted();
    c.terminate();
    // The server has seen the client go (the upgrade counts as a 499) before the filter answers.
    await eventually(() => aborted() > before, 'the server saw the client leave');
    relayState().release?.();
    await eventually(() => relayState().dropped === 1, 'dropped ran');
  });

  it('elsewhere, and under mounts of protocols without it, upgrades still pick their protocol by name', async () => {
    const plain = await TestClient.open(srv.wsUrl('/p/x'));
    expect(await plain.nextText()).toBe('plain {"mountpoint":null}');
    await plain.close();
    const named = await TestClient.open(srv.wsUrl('/elsewhere'), 'relay');
    expect(named.ws.protocol).toBe('relay');
    expect(JSON.parse(await named.nextText())).toEqual({ mountpoint: null, pathInMount: null });
    await named.close();
  });
});
