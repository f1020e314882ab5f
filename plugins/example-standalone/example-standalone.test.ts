import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess, type Running } from '../../test/helpers/in-process.ts';
import { TestClient } from '../../test/helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  const dir = makeConfigDir({ vhosts: { site: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'example-standalone-protocol': { status: 'ok' } }] }] } });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const open = () => TestClient.open(srv.wsUrl(), 'example-standalone-protocol');

/** Sends `message` and then "closeme\n", and returns the counts received until the server closed. */
async function countsAround(c: TestClient, message: string): Promise<{ counts: number[]; close: { code: number; reason: string } }> {
  await c.until((m) => Number(m.text) >= 3);
  c.send(message);
  c.send('closeme\n');
  const close = await c.closed;
  return { counts: c.received.map((m) => Number(m.text)), close };
}

describe('example-standalone-protocol (the seed plugin, as its C does)', () => {
  it('sends 0, 1, 2, ... as plain decimal TEXT frames', async () => {
    const c = await open();
    for (let i = 0; i < 4; i++) {
      const m = await c.next();
      expect(m.isBinary).toBe(false);
      expect(m.text).toBe(String(i));
    }
    await c.close();
  });

  it('"reset\\n" zeroes the counter; "closeme\\n" closes with 1001 "seeya"', async () => {
    const c = await open();
    await c.until((m) => m.text === '4');
    c.send('reset\n');
    await c.until((m) => m.text === '0');
    c.send('closeme\n');
    expect(await c.closed).toEqual({ code: 1001, reason: 'seeya' });
  });

  it('"hello world", past its 10-byte rx buffer, is read as "hello worl" + "d" and ignored: the connection lives', async () => {
    const { counts, close } = await countsAround(await open(), 'hello world');
    // closeme, read after hello world on the same stream, is what closed it; the count never went back.
    expect(close).toEqual({ code: 1001, reason: 'seeya' });
    counts.forEach((n, i) => expect(n).toBe(i));
  });

  it('compares each 10-byte piece on its own, as strcmp on lws\'s buffer does', async () => {
    // One piece "reset\nxxxx": not the command.
    const whole = await countsAround(await open(), 'reset\nxxxx');
    whole.counts.forEach((n, i) => expect(n).toBe(i));
    // Pieces "xxxxxxxxxx" and "reset\n": the second is.
    const c = await open();
    await c.until((m) => Number(m.text) >= 5);
    c.send('xxxxxxxxxxreset\n');
    await c.until((m) => m.text === '0');
    await c.close();
  });
});
