/** @module vhost.channels on the local store through tsws/testing's protocol kit: the age bound on the manual clock, cleanup when a connection closes, coded refusals. */
import { afterEach, describe, expect, it } from 'vitest';
import probe from '../../test/channels/probe-plugin.ts';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';
import type { KitClient } from '../testing/kit-client.ts';
import { newChannelStats } from '../metrics/channel-stats.ts';
import { VhostChannels } from './channels.ts';
import { LocalChannelStore } from './local-store.ts';

const kits: ProtocolKit<unknown, unknown>[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

let seq = 0;
/** Sends a probe command and returns its reply once the kit has settled. */
async function cmd(kit: ProtocolKit<unknown, unknown>, c: KitClient<unknown, unknown>, op: string, args: Record<string, unknown> = {}): Promise<{ value?: any; error?: string }> {
  const id = ++seq;
  c.send(JSON.stringify({ id, op, ...args }));
  await kit.settle();
  const reply = c.texts.map((t) => JSON.parse(t)).find((r) => r.id === id);
  if (!reply) throw new Error(`no reply to ${op}`);
  return reply;
}

async function kitOf() {
  const kit = (await testProtocol(probe)) as ProtocolKit<unknown, unknown>;
  kits.push(kit);
  return kit;
}

describe('channels alone (the local store) in the protocol kit', () => {
  it('keeps messages for ttlSecs on the server clock: recoverable until then, too-old after', async () => {
    const kit = await kitOf();
    const c = kit.connect();
    const history = { size: 10, ttlSecs: 2 };
    const first = (await cmd(kit, c, 'publish', { ch: 'aged', history, data: 'one' })).value;
    kit.advance(1000);
    await cmd(kit, c, 'publish', { ch: 'aged', history, data: 'two' });
    kit.advance(1000);
    const since = { epoch: first.epoch, offset: 0 };
    expect((await cmd(kit, c, 'history', { ch: 'aged', history, since })).value.recovery).toEqual({ recovered: true, missed: 2 });
    kit.advance(1);
    const h = (await cmd(kit, c, 'history', { ch: 'aged', history, since })).value;
    expect(h.recovery).toEqual({ recovered: false, reason: 'too-old' });
    expect(h.messages.map((m: { data: string }) => m.data)).toEqual(['two']);
    expect((await cmd(kit, c, 'history', { ch: 'aged', history, since: { epoch: first.epoch, offset: 1 } })).value.recovery).toEqual({ recovered: true, missed: 1 });
    kit.advance(1000);
    expect((await cmd(kit, c, 'history', { ch: 'aged', history })).value.messages).toEqual([]);
  });

  it('ends subscriptions and leaves presence when a connection closes, and a second connection is told', async () => {
    const kit = await kitOf();
    const a = kit.connect();
    const b = kit.connect();
    await cmd(kit, b, 'watch', { ch: 'room' });
    await cmd(kit, a, 'subscribe', { ch: 'room' });
    const joined = (await cmd(kit, a, 'join', { ch: 'room', info: 'A' })).value;
    expect(joined).toMatchObject({ info: 'A', holder: 'local' });
    await cmd(kit, b, 'publish', { ch: 'room', data: 'hello' });
    expect(a.texts.map((t) => JSON.parse(t)).filter((m) => m.ev === 'msg')).toEqual([expect.objectContaining({ ch: 'room', topic: 'room', offset: 1, data: 'hello' })]);
    a.close();
    await kit.settle();
    expect((await cmd(kit, b, 'list', { ch: 'room' })).value).toEqual([]);
    expect(b.texts.map((t) => JSON.parse(t)).filter((m) => m.ev === 'presence').map((m) => m.type)).toEqual(['join', 'leave']);
    expect((await cmd(kit, b, 'history', { ch: 'room', since: { epoch: 'gone', offset: 0 } })).value.recovery).toEqual({ recovered: false, reason: 'epoch-changed' });
  });

  it('refuses an object the framework did not make with TSWS_ERR_CHANNEL_CONNECTION', async () => {
    const kit = await kitOf();
    const channel = kit.vhost.channels.channel('x');
    await expect(channel.subscribe({ id: 1, isOpen: true })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_CONNECTION' });
    await expect(channel.presence.join({ id: 1, isOpen: true }, 'me')).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_CONNECTION' });
    expect(() => kit.vhost.channels.channel('a\nb')).toThrow(expect.objectContaining({ code: 'TSWS_ERR_CHANNEL_NAME' }));
    expect(() => kit.vhost.channels.channel('t', { history: { size: 0, ttlSecs: 5 } })).toThrow(expect.objectContaining({ code: 'TSWS_ERR_CHANNEL_OPTIONS' }));
  });

  it('refuses names holding DEL, a C1 control or a lone surrogate, and repeats only the start of a long name in the error', () => {
    const channels = testChannels();
    for (const name of ['a\u007fb', 'a\u0085b', 'a\u009fb', 'a\ud800b', 'a\udc00', '\ud83d']) {
      expect(() => channels.channel(name), JSON.stringify(name)).toThrow(expect.objectContaining({ code: 'TSWS_ERR_CHANNEL_NAME' }));
    }
    expect(channels.channel('emoji \ud83d\ude00 ok').name).toBe('emoji \ud83d\ude00 ok');
    let err: unknown;
    try {
      channels.channel('y'.repeat(30_000));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'TSWS_ERR_CHANNEL_NAME' });
    expect((err as Error).message.length).toBeLessThan(400);
  });
});

function testChannels(): VhostChannels {
  return new VhostChannels({ store: new LocalChannelStore({ holder: 'local' }), stats: newChannelStats() }, 'v', 'p');
}

it('scopes names to vhost and protocol, as topics are: one store, separate channels', async () => {
  const service = { store: new LocalChannelStore({ holder: 'local' }), stats: newChannelStats() };
  const [a, b, c] = [new VhostChannels(service, 'a', 'p'), new VhostChannels(service, 'b', 'p'), new VhostChannels(service, 'a', 'q')];
  // With history: a channel that keeps nothing and has no reader is freed at once (local-store.ts).
  const history = { size: 10 };
  expect((await a.channel('x', { history }).publish('one')).offset).toBe(1);
  expect((await b.channel('x', { history }).position()).offset).toBe(0);
  expect((await c.channel('x', { history }).position()).offset).toBe(0);
  expect((await new VhostChannels(service, 'a', 'p').channel('x', { history }).position()).offset).toBe(1);
  expect(service.stats.published).toBe(1);
});

it('reads back a hole in the live stream before going on (a follower that missed one), and counts it as a recovery', async () => {
  /** The local store, except that its followers never see offset 3: what a cut cluster subscription looks like. */
  class Lossy extends LocalChannelStore {
    override follow(channel: Parameters<LocalChannelStore['follow']>[0], deliver: Parameters<LocalChannelStore['follow']>[1]) {
      return super.follow(channel, (m) => (m.offset === 3 ? undefined : deliver(m)));
    }
  }
  const service = { store: new Lossy({ holder: 'local' }), stats: newChannelStats() };
  const channel = new VhostChannels(service, 'v', 'p').channel('holes', { history: { size: 10 } });
  const got: number[] = [];
  const conn = { id: 1, isOpen: true, deliverPublished: (m: { channel?: { offset: number } }) => void got.push(m.channel?.offset ?? -1) };
  await channel.subscribe(conn);
  for (let n = 0; n < 5; n++) await channel.publish(`m${n + 1}`);
  await new Promise((r) => setImmediate(r));
  expect(got).toEqual([1, 2, 3, 4, 5]);
  expect(service.stats.recoveries.recovered).toBe(1);
});
