/**
 * @module A callback:// plugin that answers before the request body is in, then a body that stalls: no exception escapes, the server keeps serving.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';

/** Answers every request at once, whatever its body. */
const PLUGIN = `
export default { apiVersion: 1, protocols: [{
  name: 'early',
  session: () => ({ step: 0 }),
  callbacks: {
    http(txn) { txn.requestWritable(); },
    // One write per writable: the head, then the body.
    httpWritable(txn) {
      if (txn.session.step++ === 0) { txn.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }); txn.requestWritable(); }
      else txn.end('early');
    },
  },
}] };
`;

let srv: Running;
const escaped: unknown[] = [];
const onEscape = (err: unknown) => void escaped.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  srv = await startInProcess(
    makeConfigDir({
      // A stalled body is cut after 1 s.
      conf: { global: { 'timeout-secs': '1' } },
      plugins: { 'early.js': PLUGIN },
      vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/e', origin: 'callback://early' }], 'ws-protocols': [{ early: {} }] }] },
    }),
  );
});
afterAll(async () => {
  await srv?.stop();
  process.off('uncaughtException', onEscape);
  removeConfigDirs();
});

describe('an answer before the body, then the body stalls', () => {
  it('answers, lets the stall run out, and nothing escapes as an uncaught exception', async () => {
    const s = net.connect(srv.port(), '127.0.0.1');
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', () => undefined);
    const closed = new Promise((resolve) => s.on('close', resolve));
    s.on('connect', () => s.write(`POST /e/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(1000)}`));
    // Liveness bound only: the stall timer (1 s) or uWS.js's idle timeout ends it.
    const bound = setTimeout(() => s.destroy(), 20_000);
    await closed;
    clearTimeout(bound);
    expect(text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nearly$/);
    expect(await (await fetch(srv.url('/e/y'))).text()).toBe('early');
    expect(escaped).toEqual([]);
  });
});
