import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { startShipped } from '../../test/helpers/shipped.ts';
import { TestClient } from '../../test/helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startShipped({ ticking: {}, quiet: { 'dumb-increment-protocol': { options: '1' } } });
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const open = (vhost = 'ticking') => TestClient.open(srv.wsUrl('/', vhost), 'dumb-increment-protocol', { headers: { host: vhost } });

describe('dumb-increment-protocol', () => {
  it('sends 0, 1, 2, ... as plain decimal TEXT frames', async () => {
    const c = await open();
    for (let i = 0; i < 5; i++) {
      const m = await c.next();
      expect(m.isBinary).toBe(false);
      expect(m.text).toBe(String(i));
    }
    await c.close();
  });

  it('"reset\\n" zeroes the counter', async () => {
    const c = await open();
    await c.until((m) => m.text === '5');
    c.send('reset\n');
    await c.until((m) => m.text === '0');
    expect(await c.nextText()).toBe('1');
    await c.close();
  });

  it('ignores messages shorter than 6 bytes', async () => {
    const c = await open();
    await c.until((m) => m.text === '3');
    c.send('reset');
    let last = 3;
    for (let i = 0; i < 10; i++) {
      const n = Number(await c.nextText());
      expect(n).toBe(last + 1);
      last = n;
    }
    await c.close();
  });

  it('"closeme\\n" closes with 1001 "seeya"', async () => {
    const c = await open();
    c.send('closeme\n');
    expect(await c.closed).toEqual({ code: 1001, reason: 'seeya' });
  });

  it('option bit 0 ("options": "1") disables the timer on that vhost only', async () => {
    const quiet = await open('quiet');
    const ticking = await open();
    await ticking.until((m) => m.text === '5');
    expect(quiet.received).toEqual([]);
    await quiet.close();
    await ticking.close();
  });
});
