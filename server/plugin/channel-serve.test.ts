/** @module channelFrames on the protocol kit (tsws/testing's fake transport, the real framework and in-process store): the order it writes in, its answers to bad frames and refusals, and the message frame's data rule. */
import { afterEach, describe, expect, it } from 'vitest';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';
import { definePlugin, type Channel, type Conn } from './api.ts';
import { channelFrames } from './runtime.ts';

/** A subscribe that resolves only when the test says: the store has already queued its messages by then, as a Redis or threads store may. */
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
const closeGate = () => {
  gate = new Promise((resolve) => (release = resolve));
};

/** A presence join that completes only when the test says (a Redis or threads store answers later). */
let releaseJoin: () => void = () => undefined;
let joinGate: Promise<void> = Promise.resolve();

function gated(real: Channel): Channel {
  return {
    name: real.name,
    presence: {
      ...real.presence,
      join: async (conn, info) => {
        const member = await real.presence.join(conn, info);
        await joinGate;
        return member;
      },
      leave: (conn) => real.presence.leave(conn),
      list: () => real.presence.list(),
      onChange: (fn) => real.presence.onChange(fn),
    },
    publish: (data, isBinary) => real.publish(data, isBinary),
    position: () => real.position(),
    history: (opts) => real.history(opts),
    unsubscribe: (conn) => real.unsubscribe(conn),
    async subscribe(conn, since) {
      const sub = await real.subscribe(conn, since);
      await gate;
      return sub;
    },
  };
}

const frames = channelFrames({
  channel(conn: Conn, name) {
    if (name === 'boom') throw new Error('policy bug');
    return name.startsWith('room:') ? gated(conn.vhost.channels.channel(name, { history: { size: 10 } })) : undefined;
  },
  mayPublish: (_conn, _channel, data) => data !== 'forbidden',
  // "room:p*" rooms join their presence on subscribe.
  presenceInfo: (conn, channel) => (channel.name.startsWith('room:p') ? { conn: conn.id } : undefined),
});

const plugin = definePlugin({
  apiVersion: 2,
  name: 'frames',
  protocols: (protocol) => [
    protocol({
      name: 'frames',
      // Small, so that a client that does not read its answers passes it in a few frames.
      inbox: { maxMessages: 20, maxBytes: 64 * 1024 },
      websocket: {
        session: () => ({ own: [] as string[] }),
        receive(conn, data, isBinary) {
          if (frames.receive(conn, data, isBinary)) return;
          conn.session.own.push(`own: ${data.toString()}`);
          conn.requestWritable();
        },
        writable(conn) {
          if (!frames.writeNext(conn)) {
            const own = conn.session.own.shift();
            if (own !== undefined) conn.write(own);
          }
          if (conn.session.own.length > 0) conn.requestWritable();
        },
        closed: (conn) => frames.closed(conn),
      },
    }),
  ],
});

const kits: ProtocolKit[] = [];
afterEach(async () => {
  releaseJoin();
  joinGate = Promise.resolve();
  release();
  gate = Promise.resolve();
  for (const k of kits.splice(0)) await k.stop();
});
async function kit(): Promise<ProtocolKit> {
  const k = await testProtocol(plugin);
  kits.push(k);
  return k;
}
const json = (texts: string[]) => texts.map((t) => JSON.parse(t) as Record<string, unknown>);

describe('channelFrames', () => {
  it("holds a channel's messages (history and live) behind its subscribed frame while the subscribe is pending", async () => {
    const k = await kit();
    const pub = k.connect();
    pub.send(JSON.stringify({ ch: 'publish', channel: 'room:a', data: { n: 1 }, ref: 'a' }));
    pub.send(JSON.stringify({ ch: 'publish', channel: 'room:a', data: { n: 2 }, ref: 'b' }));
    await k.settle();
    const [first] = json(pub.texts);
    expect(json(pub.texts)).toEqual([{ ch: 'published', channel: 'room:a', ref: 'a', epoch: first?.epoch, offset: 1 }, { ch: 'published', channel: 'room:a', ref: 'b', epoch: first?.epoch, offset: 2 }]);

    closeGate();
    const sub = k.connect();
    sub.send(JSON.stringify({ ch: 'subscribe', channel: 'room:a', since: { epoch: first?.epoch, offset: 0 } }));
    await k.settle();
    pub.send(JSON.stringify({ ch: 'publish', channel: 'room:a', data: { n: 3 } }));
    await k.settle();
    expect(sub.texts).toEqual([]);
    release();
    await k.settle();
    expect(json(sub.texts).map((f) => [f.ch, f.offset, f.data])).toEqual([['subscribed', 2, undefined], ['message', 1, { n: 1 }], ['message', 2, { n: 2 }], ['message', 3, { n: 3 }]]);
    expect(json(sub.texts)[0]).toMatchObject({ recovered: true });
  });

  it('answers bad frames and refusals with coded error frames, passes other text to the plugin, and never throws', async () => {
    const k = await kit();
    const c = k.connect();
    for (const m of [
      '{"ch":"nope"}', '{"ch":"subscribe"}', '{"ch":"publish","channel":"room:a"}', '{"ch":"token","token":"t"}',
      '{"ch":"subscribe","channel":"secret"}', '{"ch":"publish","channel":"room:a","data":"forbidden","ref":"r"}', '{"ch":"subscribe","channel":"boom"}',
      'hello', '{"not":"a frame"}', '{broken json',
    ]) c.send(m);
    await k.settle();
    const got = c.texts.map((t) => (t.startsWith('{') ? (JSON.parse(t) as { code?: string; ref?: string }) : t));
    expect(got).toEqual([
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_FRAME' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_FRAME' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_FRAME', channel: 'room:a' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_FRAME' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_DENIED', channel: 'secret' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_DENIED', channel: 'room:a', ref: 'r' }),
      expect.objectContaining({ ch: 'error', code: 'TSWS_ERR_CHANNEL_FAILED', channel: 'boom' }),
      'own: hello', 'own: {"not":"a frame"}', 'own: {broken json',
    ]);
    expect(c.isOpen).toBe(true);
    expect(c.errors).toEqual([]);
  });

  it("writeNext writes a publication of the plugin's own topic as it came, binary flag included, then says nothing waits", async () => {
    const k = await kit();
    const c = k.connect();
    c.conn.subscribe('own');
    k.vhost.publish('own', Buffer.from([1, 2, 3]), true);
    k.vhost.publish('own', 'text', false);
    await k.settle();
    expect(c.received.map((m) => [m.isBinary, m.text])).toEqual([
      [true, '\u0001\u0002\u0003'],
      [false, 'text'],
    ]);
  });

  it('sends text a plugin published that is not JSON as a JSON string, and JSON text as its value', async () => {
    const k = await kit();
    const c = k.connect();
    c.send(JSON.stringify({ ch: 'subscribe', channel: 'room:b' }));
    await k.settle();
    const room = k.vhost.channels.channel('room:b', { history: { size: 10 } });
    await room.publish('plain words');
    await room.publish('{"a":[1,2]}');
    await room.publish(Buffer.from('bytes'));
    await k.settle();
    expect(json(c.texts).map((f) => f.data)).toEqual([undefined, 'plain words', { a: [1, 2] }, 'bytes']);
  });

  it('unsubscribe stops the messages, even those already queued', async () => {
    const k = await kit();
    const c = k.connect();
    c.send(JSON.stringify({ ch: 'subscribe', channel: 'room:c' }));
    await k.settle();
    const room = k.vhost.channels.channel('room:c', { history: { size: 10 } });
    await room.publish('"one"');
    c.send(JSON.stringify({ ch: 'unsubscribe', channel: 'room:c' }));
    await room.publish('"two"');
    await k.settle();
    expect(json(c.texts).map((f) => f.ch)).toEqual(['subscribed', 'unsubscribed']);
  });

  it('an unsubscribe while the presence join is on its way leaves no member behind', async () => {
    const k = await kit();
    const c = k.connect();
    joinGate = new Promise((resolve) => (releaseJoin = resolve));
    c.send(JSON.stringify({ ch: 'subscribe', channel: 'room:p1' }));
    await k.settle();
    c.send(JSON.stringify({ ch: 'unsubscribe', channel: 'room:p1' }));
    releaseJoin();
    await k.settle();
    expect(await k.vhost.channels.channel('room:p1', { history: { size: 10 } }).presence.list()).toEqual([]);
    expect(json(c.texts).map((f) => f.ch)).toEqual(['unsubscribed']);
  });

  it('refuses a name no channel can have in any frame, unsubscribe included, and repeats only its start', async () => {
    const k = await kit();
    const c = k.connect();
    const long = 'room:' + 'x'.repeat(30_000);
    for (const ch of ['unsubscribe', 'subscribe', 'publish']) c.send(JSON.stringify({ ch, channel: long, data: 1, ref: 'r' }));
    c.send(JSON.stringify({ ch: 'unsubscribe', channel: 'room:\u0085' }));
    await k.settle();
    const got = json(c.texts);
    expect(got.map((f) => [f.ch, f.code])).toEqual(Array(4).fill(['error', 'TSWS_ERR_CHANNEL_FRAME']));
    for (const t of c.texts) expect(t.length).toBeLessThan(400);
    expect(got[2]).toMatchObject({ ref: 'r' });
  });

  it('closes a connection that sends frames and does not read the answers, once they pass its inbox bound (1008 "slow consumer")', async () => {
    const k = await kit();
    const c = k.connect();
    c.hold();
    // Past the framework's write threshold first (the socket holds unsent bytes), then past 20 frames kept.
    for (let i = 0; i < 400 && c.isOpen; i++) c.send(JSON.stringify({ ch: 'unsubscribe', channel: `room:${'u'.repeat(190)}${i}` }));
    expect(c.closed).toMatchObject({ code: 1008, reason: 'slow consumer', by: 'server' });
    expect(c.errors.map((e) => e.code)).toEqual(['TSWS_ERR_CHANNEL_FRAMES_UNREAD']);
  });

  it('keeps a connection that reads its answers however many frames it sends', async () => {
    const k = await kit();
    const c = k.connect();
    for (let i = 0; i < 400; i++) c.send(JSON.stringify({ ch: 'unsubscribe', channel: `room:${'u'.repeat(190)}${i}` }));
    await k.settle();
    expect(c.isOpen).toBe(true);
    expect(c.texts.length).toBe(400);
  });

  it('refuses a subscribe past 128 channels with TSWS_ERR_CHANNEL_LIMIT; an unsubscribe frees a place, a second subscribe of the same channel takes none', async () => {
    const k = await kit();
    const c = k.connect();
    const subscribe = async (names: string[]) => {
      for (const n of names) c.send(JSON.stringify({ ch: 'subscribe', channel: n }));
      await k.settle();
    };
    const names = Array.from({ length: 128 }, (_, i) => `room:l${i}`);
    for (let i = 0; i < names.length; i += 16) await subscribe(names.slice(i, i + 16));
    expect(json(c.texts).map((f) => f.ch)).toEqual(Array(128).fill('subscribed'));
    await subscribe(['room:l128', 'room:l0']);
    expect(json(c.texts.slice(128)).map((f) => [f.ch, f.channel, f.code])).toEqual([
      ['error', 'room:l128', 'TSWS_ERR_CHANNEL_LIMIT'],
      ['subscribed', 'room:l0', undefined],
    ]);
    c.send(JSON.stringify({ ch: 'unsubscribe', channel: 'room:l1' }));
    await subscribe(['room:l128']);
    expect(json(c.texts.slice(130)).map((f) => [f.ch, f.channel])).toEqual([['unsubscribed', 'room:l1'], ['subscribed', 'room:l128']]);
    expect(c.isOpen).toBe(true);
  });

  it('counts only the channels a connection is subscribed to now, however many it left', async () => {
    const k = await kit();
    const c = k.connect();
    for (let i = 0; i < 300; i++) {
      c.send(JSON.stringify({ ch: 'subscribe', channel: `room:t${i}` }));
      c.send(JSON.stringify({ ch: 'unsubscribe', channel: `room:t${i}` }));
      if (i % 8 === 7) await k.settle();
    }
    c.send(JSON.stringify({ ch: 'subscribe', channel: 'room:last' }));
    await k.settle();
    const got = json(c.texts);
    expect(got.filter((f) => f.ch === 'error')).toEqual([]);
    expect(got.at(-1)).toMatchObject({ ch: 'subscribed', channel: 'room:last' });
  });
});
