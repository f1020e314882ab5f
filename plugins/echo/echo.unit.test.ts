/** @module echo with no sockets (tsws/testing's testProtocol): order and frame types, its size limit, and a client that sends without reading. */
import { afterEach, describe, expect, it } from 'vitest';
import { testProtocol, type ProtocolKit } from '../../server/testing/index.ts';
import plugin from './echo.ts';

let kit: ProtocolKit | undefined;
afterEach(async () => {
  await kit?.stop();
  kit = undefined;
});

/** 40 KiB: two of them take a client that does not read past the framework's 64 KiB threshold. */
const chunk = (n: number) => Buffer.alloc(40 * 1024, n);

describe('echo, unit', () => {
  it('returns text as text and binary as binary, unchanged and in order', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    c.send('one');
    c.send(Buffer.from([1, 2, 3]));
    c.send('three');
    expect(c.received.map((m) => [m.isBinary, m.data.toString('hex')])).toEqual([
      [false, Buffer.from('one').toString('hex')],
      [true, '010203'],
      [false, Buffer.from('three').toString('hex')],
    ]);
  });

  it('closes with 1009 above its 1 MiB limit, before receive sees the message', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    c.send(Buffer.alloc(1024 * 1024));
    expect(c.received.length).toBe(1);
    c.send(Buffer.alloc(1024 * 1024 + 1));
    expect(c.closed).toEqual({ code: 1009, reason: 'message too big', by: 'server' });
    expect(c.received.length).toBe(1);
  });

  it('stops writing to a client that does not read past the threshold, and echoes the rest once it reads', async () => {
    kit = await testProtocol(plugin);
    const c = kit.connect();
    c.hold();
    for (const n of [1, 2, 3, 4]) c.send(chunk(n));
    expect(c.bufferedAmount).toBe(2 * 40 * 1024);
    c.release();
    expect(c.received.map((m) => m.data[0])).toEqual([1, 2, 3, 4]);
    expect(kit.errors).toEqual([]);
  });

  it('closes with 1008 a client that keeps sending without reading once "max-queue" messages wait', async () => {
    kit = await testProtocol(plugin, { options: { 'max-queue': 3 } });
    const c = kit.connect();
    c.hold();
    // Two fill its buffer past the threshold; three more wait in echo's queue; the sixth is one too many.
    for (const n of [1, 2, 3, 4, 5]) c.send(chunk(n));
    expect(c.isOpen).toBe(true);
    c.send(chunk(6));
    expect(c.closed).toEqual({ code: 1008, reason: 'slow consumer', by: 'server' });
  });

  it('refuses a "max-queue" that is not an integer of at least 1, as --check would', async () => {
    await expect(testProtocol(plugin, { options: { 'max-queue': 0 } })).rejects.toMatchObject({ code: 'TSWS_ERR_CONFIG_INVALID', message: expect.stringContaining('TSWS_ERR_PROTOCOL_OPTION_TYPE') });
  });
});
