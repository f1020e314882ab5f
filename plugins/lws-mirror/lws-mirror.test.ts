import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { startShipped } from '../../test/helpers/shipped.ts';
import { TestClient, socketOf, upgradeStatus } from '../../test/helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startShipped();
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const join = (group?: string) => TestClient.open(srv.wsUrl(group === undefined ? '/' : `/?mirror=${encodeURIComponent(group)}`), 'lws-mirror-protocol');

describe('lws-mirror-protocol', () => {
  it('sends every message to every member of the group, the sender included, as TEXT', async () => {
    const a = await join('g1');
    const b = await join('g1');
    a.send(Buffer.from('binary in'));
    for (const c of [a, b]) {
      const m = await c.next();
      expect(m.text).toBe('binary in');
      expect(m.isBinary).toBe(false);
    }
    await a.close();
    await b.close();
  });

  it('keeps groups apart, the default group ("") included', async () => {
    const a = await join('g2');
    const other = await join('g3');
    const dflt = await join();
    a.send('for g2 only');
    expect(await a.nextText()).toBe('for g2 only');
    other.send('marker');
    dflt.send('default marker');
    expect(await other.nextText()).toBe('marker');
    expect(await dflt.nextText()).toBe('default marker');
    for (const c of [a, other, dflt]) await c.close();
  });

  it('delivers in the order sent, with several senders each in order', async () => {
    const members = await Promise.all([join('g4'), join('g4'), join('g4')]);
    const [s1, s2] = members as [TestClient, TestClient, TestClient];
    for (let i = 0; i < 500; i++) {
      s1.send(`a${i}`);
      s2.send(`b${i}`);
    }
    for (const m of members) {
      const seen: string[] = [];
      for (let i = 0; i < 1000; i++) seen.push(await m.nextText());
      expect(seen.filter((s) => s.startsWith('a'))).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
      expect(seen.filter((s) => s.startsWith('b'))).toEqual(Array.from({ length: 500 }, (_, i) => `b${i}`));
    }
    for (const m of members) await m.close();
  });

  it('refuses group names over 29 characters instead of truncating them', async () => {
    expect(await upgradeStatus(srv.wsUrl(`/?mirror=${'x'.repeat(30)}`), 'lws-mirror-protocol')).toBe(400);
    expect(await upgradeStatus(srv.wsUrl(`/?mirror=${'x'.repeat(29)}`), 'lws-mirror-protocol')).toBe(101);
  });

  it('closes a member that stops reading with 1008 (over its inbox bound with nothing read, or four times over); a member that reads keeps everything', async () => {
    const fast = await join('g5');
    const slow = new TestClient(srv.wsUrl('/?mirror=g5'), 'lws-mirror-protocol');
    await slow.opened;
    const raw = socketOf(slow);
    raw.pause();
    const chunk = 'x'.repeat(60 * 1024);
    const total = 800; // 48 MB: more than the kernel buffers plus a 512-message inbox
    // The fast member reads as it sends, 64 messages (3.8 MB) ahead at most: a member that sends
    // 48 MB without reading is itself the slowest reader of its group, and is closed as one.
    const window = 64;
    for (let i = 0; i < window; i++) fast.send(`${String(i).padStart(6, '0')}${chunk}`);
    for (let i = 0; i < total; i++) {
      expect((await fast.nextText()).slice(0, 6)).toBe(String(i).padStart(6, '0'));
      if (i + window < total) fast.send(`${String(i + window).padStart(6, '0')}${chunk}`);
    }
    raw.resume();
    expect((await slow.closed).code).toBe(1008);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_SLOW_CONSUMER')).toBe(true);
    // what the slow member did get before being closed was in order, without holes
    slow.received.forEach((m, i) => expect(m.text.slice(0, 6)).toBe(String(i).padStart(6, '0')));
    await fast.close();
  });
});
