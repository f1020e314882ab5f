import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type ChannelClient, type ConnectOptions, type Gap } from 'tsws/client';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { until } from './helpers/tcp-cut.ts';
import { switchRelay, type SwitchRelay } from './helpers/switch-relay.ts';

/*
 * tsws/client in Node (20 here: ws's WebSocket passed in) against a tsws
 * process serving test/plugins-v2/channels-demo.ts (channelFrames on the
 * in-process store). The outages are real: a TCP relay cut between client
 * and server, and the server process stopped and started again on its port.
 */
const PLUGINS = path.resolve(import.meta.dirname, 'plugins-v2');

let port: number;
let server: TswsProcess;
let dir: string;
const clients: ChannelClient[] = [];

function start(): Promise<unknown> {
  server = runTsws(['-c', dir]);
  return server.ready;
}

function client(url = `ws://127.0.0.1:${port}/`, opts: ConnectOptions = {}): ChannelClient {
  const c = connect(url, { protocol: 'channels-demo', WebSocket, backoff: { initialMs: 20, maxMs: 200 }, ...opts });
  clients.push(c);
  return c;
}

const opened = (c: ChannelClient) => until(() => c.state.state === 'open');

beforeAll(async () => {
  port = await freePort();
  dir = makeConfigDir({
    conf: { global: { 'plugin-dir': PLUGINS } },
    vhosts: { localhost: [{ name: 'localhost', port: String(port), interface: '127.0.0.1', 'ws-protocols': [{ 'channels-demo': {} }] }] },
  });
  await start();
});

afterAll(() => {
  for (const c of clients) c.close();
  killAll();
  removeConfigDirs();
});

/** The reader's socket cut while ten messages are published; it must resume with each once, in order, and no gap. */
async function cutAndResume(serverPort: number, channel: string): Promise<void> {
  const relay: SwitchRelay = await switchRelay(serverPort);
  try {
    const reader = client(`ws://127.0.0.1:${relay.port}/`);
    const writer = client(`ws://127.0.0.1:${serverPort}/`);
    const got: unknown[] = [];
    const offsets: number[] = [];
    const gaps: Gap[] = [];
    let confirmed = 0;
    reader.subscribe(channel, {
      onMessage: (m) => {
        got.push(m.data);
        offsets.push(m.offset);
      },
      onGap: (g) => gaps.push(g),
      onSubscribed: () => void confirmed++,
    });
    await until(() => confirmed === 1);
    for (let i = 1; i <= 5; i++) await writer.publish(channel, { n: i });
    await until(() => got.length === 5);

    // The outage: the reader tries again at least twice and is refused before the messages it misses are published.
    const attempts: number[] = [];
    reader.on('state', (s) => void (s.state === 'reconnecting' && attempts.push(s.attempt)));
    relay.cut();
    await until(() => attempts.includes(2));
    for (let i = 6; i <= 15; i++) await writer.publish(channel, { n: i });
    relay.restore();

    await until(() => got.length >= 15 && confirmed === 2);
    await writer.publish(channel, { n: 16 });
    await until(() => got.length >= 16);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => ({ n: i + 1 })));
    expect(offsets).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
    expect(reader.state.state).toBe('open');
  } finally {
    await relay.close();
  }
}

describe('tsws/client against a real server: resume and gaps', () => {
  it('resumes after its socket was cut for a while: every message once, in order, and no gap', () => cutAndResume(port, 'room:cut'));

  it('does the same against count-threads 2, whose store is in the main thread (a subscribe answers a turn later, through a port)', async () => {
    const threaded = runTsws(['-c', makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGINS, 'count-threads': '2' } },
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'channels-demo': {} }] }] },
    })]);
    const [listener] = await threaded.ready;
    try {
      await cutAndResume(listener?.port ?? 0, 'room:threads');
    } finally {
      threaded.kill('SIGTERM');
      await threaded.exited;
    }
  });

  it("tells of an epoch-changed gap when the server restarted (the in-process store's history is gone), then goes on in the new epoch", async () => {
    const c = client();
    const got: { epoch: string; offset: number; data: unknown }[] = [];
    const gaps: Gap[] = [];
    c.subscribe('room:restart', { onMessage: ({ epoch, offset, data }) => got.push({ epoch, offset, data }), onGap: (g) => gaps.push(g) });
    await opened(c);
    const positions = [await c.publish('room:restart', 'a'), await c.publish('room:restart', 'b'), await c.publish('room:restart', 'c')];
    expect(positions.map((p) => p.offset)).toEqual([1, 2, 3]);
    await until(() => got.length === 3);
    const before = positions[2];

    server.kill('SIGTERM');
    await server.exited;
    await start();

    await until(() => gaps.length === 1);
    const [gap] = gaps;
    expect(gap).toMatchObject({ channel: 'room:restart', from: before, reason: 'epoch-changed', to: { offset: 0 } });
    expect(gap?.to.epoch).not.toBe(before?.epoch);
    const after = await c.publish('room:restart', 'd');
    await until(() => got.length === 4);
    expect(got[3]).toEqual({ epoch: gap?.to.epoch, offset: 1, data: 'd' });
    expect(after).toEqual({ epoch: gap?.to.epoch, offset: 1 });
    expect(gaps).toHaveLength(1);
  });
});

describe('channelFrames on the wire', () => {
  it("writes a resumed channel's subscribed frame first, then the missed messages in order", async () => {
    const writer = client();
    const first = await writer.publish('room:wire', 'm1');
    await writer.publish('room:wire', 'm2');
    await writer.publish('room:wire', 'm3');
    const raw = new WebSocket(`ws://127.0.0.1:${port}/`, 'channels-demo');
    const frames: Record<string, unknown>[] = [];
    raw.on('message', (d) => void frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send(JSON.stringify({ ch: 'subscribe', channel: 'room:wire', since: { epoch: first.epoch, offset: 0 } }));
    await until(() => frames.length === 4);
    raw.close();
    expect(frames.map((f) => [f.ch, f.offset, f.data])).toEqual([['subscribed', 3, undefined], ['message', 1, 'm1'], ['message', 2, 'm2'], ['message', 3, 'm3']]);
    expect(frames[0]).toMatchObject({ recovered: true, epoch: first.epoch });
  });
});

describe('tsws/client against a real server: the frames around the channels', () => {
  it("mixes the protocol's own messages with channel frames", async () => {
    const c = client();
    const own: (string | ArrayBuffer)[] = [];
    c.on('message', (m) => void own.push(m));
    await opened(c);
    expect(c.send('hello')).toBe(true);
    await until(() => own.length === 1);
    expect(own).toEqual(['own: hello']);
  });

  it('gets coded refusals: a channel the plugin does not serve, a read-only one, and a bad frame', async () => {
    const c = client();
    const errors: string[] = [];
    c.on('error', (e) => void errors.push(e.code));
    const refused: string[] = [];
    c.subscribe('secret:x', { onMessage: () => undefined, onError: (e) => void refused.push(e.code) });
    await opened(c);
    await expect(c.publish('news:x', 'no')).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_DENIED', channel: 'news:x' });
    c.send(JSON.stringify({ ch: 'subscribe' }));
    c.send(JSON.stringify({ ch: 'subscribe', channel: 'room:x', since: { epoch: 'e', offset: -1 } }));
    await until(() => refused.length === 1 && errors.length === 2);
    expect(refused).toEqual(['TSWS_ERR_CHANNEL_DENIED']);
    expect(errors).toEqual(['TSWS_ERR_CHANNEL_FRAME', 'TSWS_ERR_CHANNEL_FRAME']);
    // The connection carries on.
    await expect(c.publish('room:x', 'yes')).resolves.toMatchObject({ offset: 1 });
  });

  it('tells presence: the members on subscribe, then joins and leaves', async () => {
    const ann = client(`ws://127.0.0.1:${port}/?name=ann`);
    const seen: string[] = [];
    let members: readonly { info: unknown }[] = [];
    const sub = ann.subscribe('room:p', {
      presence: true,
      onMessage: () => undefined,
      onSubscribed: (s) => void (members = s.members),
      onPresence: (p) => void seen.push(`${p.event} ${(p.member.info as { name: string }).name}`),
    });
    await until(() => members.length === 1);
    expect(members.map((m) => m.info)).toEqual([{ name: 'ann' }]);
    const bob = client(`ws://127.0.0.1:${port}/?name=bob`);
    bob.subscribe('room:p', { onMessage: () => undefined });
    await until(() => seen.length >= 1);
    bob.close();
    await until(() => seen.length >= 2);
    expect(seen).toEqual(['join bob', 'leave bob']);
    expect(sub.members.map((m) => m.info)).toEqual([{ name: 'ann' }]);
  });
});
