/** @module lws-mirror-protocol with no sockets (tsws/testing's testProtocol): groups, order, and a member that stops reading, with the 3 s slow-consumer rule on a clock moved by hand. */
import { afterEach, describe, expect, it } from 'vitest';
import { testProtocol, type ProtocolKit } from '../../server/testing/index.ts';
import plugin from './lws-mirror.ts';

let kit: ProtocolKit | undefined;
afterEach(async () => {
  await kit?.stop();
  kit = undefined;
});

const start = async () => (kit = await testProtocol(plugin));
/** 60 KiB: two of them take a member that does not read past the framework's 64 KiB threshold. */
const big = (tag: string) => tag + 'x'.repeat(60 * 1024 - tag.length);

describe('lws-mirror-protocol, unit', () => {
  it('sends every message to every member of the group, the sender included, as TEXT', async () => {
    const k = await start();
    const a = k.connect({ query: { mirror: 'g' } });
    const b = k.connect({ query: { mirror: 'g' } });
    const other = k.connect({ query: { mirror: 'h' } });
    a.send(Buffer.from('binary in'));
    b.send('from b');
    for (const c of [a, b]) expect(c.received.map((m) => [m.text, m.isBinary])).toEqual([['binary in', false], ['from b', false]]);
    expect(other.received).toEqual([]);
  });

  it('refuses group names over 29 characters with 400, and takes 29', async () => {
    const k = await start();
    const long = k.connect({ query: { mirror: 'x'.repeat(30) } });
    expect(long.status).toBe(400);
    expect(long.refusal?.body).toMatch(/longer than 29/);
    expect(k.connect({ query: { mirror: 'x'.repeat(29) } }).status).toBe(101);
  });

  it('holds a member that does not read at the threshold, keeps its copies in order, and hands them over once it reads', async () => {
    const k = await start();
    const a = k.connect({ query: { mirror: 'g' } });
    const b = k.connect({ query: { mirror: 'g' } });
    b.hold();
    for (const tag of ['1', '2', '3', '4']) a.send(big(tag));
    // A reads: it has everything. B's two first copies fill its buffer past 64 KiB; the rest wait in its inbox.
    expect(a.texts.map((t) => t[0])).toEqual(['1', '2', '3', '4']);
    expect(b.received).toEqual([]);
    expect(b.bufferedAmount).toBe(2 * 60 * 1024);
    expect(b.conn.publishedPending).toBe(2);
    b.release();
    expect(b.texts.map((t) => t[0])).toEqual(['1', '2', '3', '4']);
    expect(k.errors).toEqual([]);
  });

  it('closes a member over its 512-message inbox that reads nothing for 3 s with 1008, and nobody else', async () => {
    const k = await start();
    const a = k.connect({ query: { mirror: 'g' } });
    const b = k.connect({ query: { mirror: 'g' } });
    b.hold();
    a.send(big('1'));
    a.send(big('2'));
    for (let i = 0; i < 600; i++) a.send(`m${i}`);
    expect(b.conn.publishedPending).toBe(600);
    k.advance(2999);
    expect(b.isOpen).toBe(true);
    k.advance(1);
    expect(b.closed).toEqual({ code: 1008, reason: 'slow consumer', by: 'server' });
    expect(k.errors.map((e) => e.code)).toEqual(['TSWS_ERR_SLOW_CONSUMER']);
    expect(b.errors.map((e) => e.code)).toEqual(['TSWS_ERR_SLOW_CONSUMER']);
    expect(a.errors).toEqual([]);
    expect(a.isOpen).toBe(true);
    expect(a.texts.length).toBe(602);
  });

  it('keeps a member over its bound that reads something within the 3 s', async () => {
    const k = await start();
    const a = k.connect({ query: { mirror: 'g' } });
    const b = k.connect({ query: { mirror: 'g' } });
    b.hold();
    a.send(big('1'));
    a.send(big('2'));
    for (let i = 0; i < 600; i++) a.send(`m${i}`);
    k.advance(2000);
    b.release();
    k.advance(5000);
    expect(b.isOpen).toBe(true);
    expect(b.texts.length).toBe(602);
  });
});
