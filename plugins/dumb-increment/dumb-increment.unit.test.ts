/** @module dumb-increment-protocol with no sockets (tsws/testing's testProtocol): its 50 ms timer moved by hand, so every count is exact. */
import { afterEach, describe, expect, it } from 'vitest';
import { testProtocol, type ProtocolKit } from '../../server/testing/index.ts';
import plugin from './dumb-increment.ts';

let kit: ProtocolKit | undefined;
afterEach(async () => {
  await kit?.stop();
  kit = undefined;
});

describe('dumb-increment-protocol, unit', () => {
  it('sends the next number on each 50 ms tick, one per writable, as TEXT', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    expect(c.status).toBe(101);
    expect(c.texts).toEqual([]);
    kit.advance(49);
    expect(c.texts).toEqual([]);
    kit.advance(1);
    expect(c.texts).toEqual(['0']);
    kit.advance(150);
    expect(c.texts).toEqual(['0', '1', '2', '3']);
    expect(c.received.every((m) => !m.isBinary)).toBe(true);
  });

  it('counts each connection on its own', async () => {
    kit = await testProtocol(plugin);
    const a = kit.connect();
    kit.advance(100);
    const b = kit.connect();
    kit.advance(100);
    expect(a.texts).toEqual(['0', '1', '2', '3']);
    expect(b.texts).toEqual(['0', '1']);
  });

  it('"reset\\n" zeroes the counter; shorter messages are ignored', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    kit.advance(150);
    c.send('reset');
    kit.advance(50);
    expect(c.texts).toEqual(['0', '1', '2', '3']);
    c.send('reset\n');
    kit.advance(100);
    expect(c.texts.slice(4)).toEqual(['0', '1']);
  });

  it('"closeme\\n" closes with 1001 "seeya", and the closed client gets no more ticks', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    c.send('closeme\n');
    expect(c.closed).toEqual({ code: 1001, reason: 'seeya', by: 'server' });
    kit.advance(500);
    expect(c.texts).toEqual([]);
  });

  it('option bit 0 ("options": "1") sets no timer at all', async () => {
    kit = await testProtocol(plugin, { options: { options: '1' } });
    const c = kit.connect();
    expect(kit.clock.pending).toBe(0);
    kit.advance(10_000);
    expect(c.texts).toEqual([]);
  });

  it('writes on into the buffer of a client that does not read (a few bytes, far below 64 KiB), which gets them all once it reads', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    c.hold();
    kit.advance(500);
    // Each write reported 'backpressure', but ten bytes stay far below the framework's threshold: writables go on.
    expect(c.texts).toEqual([]);
    expect(c.bufferedAmount).toBe('0123456789'.length);
    c.release();
    expect(c.texts).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('cancels its timer at destroy', async () => {
    kit = await testProtocol(plugin);
    expect(kit.clock.pending).toBe(1);
    await kit.stop();
    expect(kit.clock.pending).toBe(0);
  });
});
