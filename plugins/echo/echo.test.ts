import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { startShipped } from '../../test/helpers/shipped.ts';
import { TestClient, eventually, socketOf } from '../../test/helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startShipped({ localhost: {}, small: { echo: { 'max-queue': '100' } } });
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

describe('echo', () => {
  it('returns text as text and binary as binary, unchanged and in order', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'echo');
    const payloads = Array.from({ length: 1000 }, (_, i) => (i % 2 ? crypto.randomBytes(i % 300) : `text ${i}`));
    for (const p of payloads) c.send(p);
    for (const p of payloads) {
      const m = await c.next();
      expect(m.isBinary).toBe(typeof p !== 'string');
      expect(typeof p === 'string' ? m.text : m.data.equals(p)).toBe(typeof p === 'string' ? p : true);
    }
    await c.close();
  });

  it('echoes a message at its 1 MiB limit and closes with 1009 above it', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'echo');
    const max = crypto.randomBytes(1024 * 1024);
    c.send(max);
    expect((await c.next()).data.equals(max)).toBe(true);
    c.send(Buffer.alloc(1024 * 1024 + 1));
    expect((await c.closed).code).toBe(1009);
  });

  it('closes a client that sends without reading once max-queue messages wait', async () => {
    const c = new TestClient(srv.wsUrl('/', 'small'), 'echo', { headers: { host: 'small' } });
    await c.opened;
    const raw = socketOf(c);
    raw.pause();
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 1000; i++) c.send(chunk);
    const echoConns = () => srv.server.hosts.filter((h) => h.protocol === 'echo').reduce((n, h) => n + h.connectionCount, 0);
    await eventually(() => echoConns() === 0, 'the server closed the non-reading client');
    raw.resume();
    expect((await c.closed).code).toBe(1008);
  });
});
