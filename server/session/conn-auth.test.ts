/** @module A gate's `auth` through the framework, on the protocol kit's manual clock: the session sees it, expiry closes with 4001, renewAuth moves the close, another subject throws. */
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type Authenticated } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';

const kits: ProtocolKit<unknown, unknown>[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

const inSecs = (s: number) => Math.floor(Date.now() / 1000) + s;
/** Renewals asked for by a message: "renew <subject> <secs>". */
const plugin = definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    protocol({
      name: 'authed',
      websocket: {
        filter: (req) => ({ accept: true, auth: { subject: req.queryParam('sub') ?? '', expiresAt: inSecs(Number(req.queryParam('secs'))), claims: { role: 'x' } } }),
        session: (_vhost, req) => ({ seen: req.auth?.subject, out: [] as string[] }),
        receive(conn, data) {
          const [, subject = '', secs = '0'] = data.toString().split(' ');
          const auth: Authenticated = { subject, expiresAt: inSecs(Number(secs)), claims: {} };
          try {
            conn.renewAuth(auth);
            conn.session.out.push('renewed');
          } catch (err) {
            conn.session.out.push((err as { code?: string }).code ?? 'threw');
          }
          conn.requestWritable();
        },
        writable(conn) {
          const next = conn.session.out.shift();
          if (next !== undefined) conn.write(next);
        },
      },
    }),
  ],
});

async function kit(): Promise<ProtocolKit<unknown, unknown>> {
  const k = (await testProtocol(plugin)) as ProtocolKit<unknown, unknown>;
  kits.push(k);
  return k;
}

describe('auth on a connection', () => {
  it('the session maker and conn.auth see the gate\'s auth; at expiresAt the framework closes with 4001', async () => {
    const k = await kit();
    const c = k.connect({ path: '/?sub=alice&secs=60' });
    await k.settle();
    expect((c.conn.session as { seen?: string }).seen).toBe('alice');
    expect(c.conn.auth?.claims).toEqual({ role: 'x' });
    k.advance(58_000);
    expect(c.closed).toBeUndefined();
    k.advance(3_000);
    expect(c.closed).toEqual({ code: 4001, reason: 'token expired', by: 'server' });
  });

  it('renewAuth for the same subject moves the close; another subject throws TSWS_ERR_AUTH_SUBJECT_CHANGED and changes nothing', async () => {
    const k = await kit();
    const c = k.connect({ path: '/?sub=bob&secs=10' });
    await k.settle();
    c.send('renew mallory 3600');
    expect(c.texts).toEqual(['TSWS_ERR_AUTH_SUBJECT_CHANGED']);
    c.send('renew bob 3600');
    expect(c.texts).toEqual(['TSWS_ERR_AUTH_SUBJECT_CHANGED', 'renewed']);
    k.advance(60_000);
    expect(c.closed).toBeUndefined();
    expect(c.conn.auth?.subject).toBe('bob');
    k.advance(3_600_000);
    expect(c.closed).toEqual({ code: 4001, reason: 'token expired', by: 'server' });
  });
});
