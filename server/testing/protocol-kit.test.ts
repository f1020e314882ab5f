/** @module The protocol kit on websockets: the request a plugin sees, violations and failures recorded with their codes, timers on the manual clock, settle, stop, and a test's misuse. */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { definePlugin, defineProtocol, type Conn } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from './index.ts';

const kits: ProtocolKit<unknown, unknown>[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});
async function kitOf<V, S>(p: Promise<ProtocolKit<V, S>>): Promise<ProtocolKit<V, S>> {
  const k = await p;
  kits.push(k as ProtocolKit<unknown, unknown>);
  return k;
}

/** Replies with what it was asked, one message per writable. */
interface Outbox {
  out: string[];
}
const writeNext = (conn: Conn<unknown, Outbox>) => {
  const next = conn.session.out.shift();
  if (next !== undefined) conn.write(next);
  if (conn.session.out.length > 0) conn.requestWritable();
};

/** Deliberately bad: "twice" writes twice in one writable, "throw" throws, "outside" writes from receive, "later" rejects. */
const bad = defineProtocol<undefined, Outbox>({
  name: 'bad',
  session: () => ({ out: [] }),
  callbacks: {
    receive(conn, data) {
      const what = data.toString();
      if (what === 'throw') throw new Error('thrown on purpose');
      if (what === 'outside') conn.write('from receive');
      if (what === 'later') return Promise.resolve().then(() => Promise.reject(new Error('rejected on purpose')));
      conn.session.out.push(what);
      conn.requestWritable();
    },
    writable(conn) {
      const next = conn.session.out.shift();
      if (next === undefined) return;
      conn.write(next);
      if (next === 'twice') conn.write('again');
    },
  },
});

describe('violations and failures', () => {
  it('throws TSWS_ERR_BACK_TO_BACK_WRITE at a second write in one writable, records it, and closes that client with 1011', async () => {
    const kit = await kitOf(testProtocol(bad));
    const c = kit.connect();
    const other = kit.connect();
    c.send('twice');
    expect(c.texts).toEqual(['twice']);
    expect(c.closed).toEqual({ code: 1011, reason: 'internal error', by: 'server' });
    expect(kit.errors).toEqual([expect.objectContaining({ code: 'TSWS_ERR_BACK_TO_BACK_WRITE', callback: 'writable', conn: c.conn.id })]);
    expect(c.errors.map((e) => e.code)).toEqual(['TSWS_ERR_BACK_TO_BACK_WRITE']);
    other.send('fine');
    expect(other.texts).toEqual(['fine']);
    expect(other.errors).toEqual([]);
  });

  it('records a throwing callback as TSWS_ERR_PLUGIN_CALLBACK_THREW and closes that client with 1011', async () => {
    const kit = await kitOf(testProtocol(bad));
    const c = kit.connect();
    c.send('throw');
    expect(c.closed?.code).toBe(1011);
    expect(c.errors).toEqual([expect.objectContaining({ code: 'TSWS_ERR_PLUGIN_CALLBACK_THREW', callback: 'receive', message: expect.stringContaining('thrown on purpose') })]);
  });

  it('records a write from receive as TSWS_ERR_WRITE_OUTSIDE_WRITABLE', async () => {
    const kit = await kitOf(testProtocol(bad));
    const c = kit.connect();
    c.send('outside');
    expect(c.received).toEqual([]);
    expect(c.errors.map((e) => e.code)).toEqual(['TSWS_ERR_WRITE_OUTSIDE_WRITABLE']);
  });

  it('sees a rejected promise once the kit settles', async () => {
    const kit = await kitOf(testProtocol(bad));
    const c = kit.connect();
    c.send('later');
    expect(c.isOpen).toBe(true);
    await kit.settle();
    expect(c.closed?.code).toBe(1011);
    expect(c.errors[0]?.message).toMatch(/rejected on purpose/);
  });

  it('calls a protocol busy when its writable asks for another for ever without writing', async () => {
    const spin = defineProtocol({ name: 'spin', callbacks: { receive: (conn) => conn.requestWritable(), writable: (conn) => conn.requestWritable() } });
    const kit = await kitOf(testProtocol(spin));
    const c = kit.connect();
    expect(() => c.send('go')).toThrow(expect.objectContaining({ code: 'TSWS_ERR_KIT_BUSY' }));
    c.close();
  });
});

describe('the request and the session', () => {
  const seen = defineProtocol<{ readonly prefix: string }, { readonly hello: string } & Outbox, { prefix: { type: 'string'; default: 'hi'; doc: 'd' } }>({
    name: 'seen',
    options: { prefix: { type: 'string', default: 'hi', doc: 'd' } },
    session: (vhost, req) => ({ hello: `${vhost.state.prefix} ${req.queryParam('name') ?? '?'} from ${req.peer} at ${req.path}, ua ${req.headers['user-agent'] ?? '-'}`, out: [] }),
    callbacks: {
      init: (_vhost, opts) => ({ prefix: opts.prefix }),
      filter: (req) => (req.headers.authorization === 'no' ? { refuse: 401, reason: 'who are you' } : 'accept'),
      established(conn) {
        conn.session.out.push(conn.session.hello);
        conn.requestWritable();
      },
      writable: writeNext,
    },
  });

  it('hands the plugin the path, query, headers and peer of the upgrade, and types conn and vhost from the protocol', async () => {
    const kit = await kitOf(testProtocol(seen, { options: { prefix: 'hello' } }));
    const c = kit.connect({ path: '/room', query: { name: 'ann' }, headers: { 'User-Agent': 'kit' }, peer: '192.0.2.9' });
    expect(c.texts).toEqual(['hello ann from 192.0.2.9 at /room, ua kit']);
    expectTypeOf(c.conn.session.hello).toEqualTypeOf<string>();
    expectTypeOf(kit.vhost.state.prefix).toEqualTypeOf<string>();
    expect(kit.vhost.state.prefix).toBe('hello');
    expect(c.conn.request.queryParam('name')).toBe('ann');
  });

  it("answers a refused upgrade with the filter's status and reason", async () => {
    const kit = await kitOf(testProtocol(seen));
    const c = kit.connect({ headers: { authorization: 'no' } });
    expect(c.status).toBe(401);
    expect(c.refusal?.body).toMatch(/who are you/);
    expect(() => c.send('x')).toThrow(expect.objectContaining({ code: 'TSWS_ERR_KIT_CLIENT_STATE', message: expect.stringContaining('refused with 401') }));
  });

  it('upgrades after an asynchronous filter answers, once the kit settles', async () => {
    const slow = defineProtocol({ name: 'slow', callbacks: { filter: async () => 'accept' as const } });
    const kit = await kitOf(testProtocol(slow));
    const c = kit.connect();
    expect(c.status).toBeUndefined();
    await kit.settle();
    expect(c.status).toBe(101);
    expect(c.isOpen).toBe(true);
  });

  it('picks the protocol of a plugin by name, and refuses a name it does not have', async () => {
    const plugin = definePlugin({ apiVersion: 1, protocols: [bad, seen] });
    const kit = await kitOf(testProtocol(plugin, { protocol: 'seen' }));
    expect(kit.connect().texts).toEqual(['hi ? from 127.0.0.1 at /, ua -']);
    await expect(testProtocol(plugin, { protocol: 'nope' })).rejects.toMatchObject({ code: 'TSWS_ERR_KIT_PROTOCOL', message: expect.stringContaining('"bad", "seen"') });
  });

  it('warns of an option the protocol does not declare, as --check does', async () => {
    const kit = await kitOf(testProtocol(seen, { options: { prefx: 'x' } }));
    expect(kit.warnings.map((w) => w.code)).toEqual(['TSWS_WARN_PROTOCOL_OPTION_UNKNOWN']);
  });
});

describe('time, and the end', () => {
  const ticker = defineProtocol<undefined, { n: number }>({
    name: 'ticker',
    session: () => ({ n: 0 }),
    rateLimit: { messagesPerSecond: 1, burst: 2 },
    callbacks: {
      established(conn) {
        conn.setInterval(1000, () => conn.requestWritable());
      },
      writable(conn) {
        conn.write(`tick ${++conn.session.n}`);
      },
    },
  });

  it("fires a connection's timers on advance and cancels them when it closes", async () => {
    const kit = await kitOf(testProtocol(ticker));
    const c = kit.connect();
    kit.advance(2500);
    expect(c.texts).toEqual(['tick 1', 'tick 2']);
    expect(kit.clock.pending).toBe(1);
    c.close(4000, 'bye');
    expect(c.closed).toEqual({ code: 4000, reason: 'bye', by: 'client' });
    expect(kit.clock.pending).toBe(0);
  });

  it('refills a rate limit on the kit clock, not the wall clock', async () => {
    const kit = await kitOf(testProtocol(ticker));
    const c = kit.connect();
    c.send('1');
    c.send('2');
    kit.advance(1000);
    c.send('3');
    expect(c.isOpen).toBe(true);
    c.send('4');
    expect(c.closed).toEqual({ code: 1008, reason: 'rate limit', by: 'server' });
  });

  it('closes every client with 1001 at stop, and runs destroy', async () => {
    const events: string[] = [];
    const p = defineProtocol({ name: 'p', callbacks: { closed: (_c, code) => void events.push(`closed ${code}`), destroy: (_v, why) => void events.push(`destroy ${why}`) } });
    const kit = await testProtocol(p);
    const c = kit.connect();
    await kit.stop();
    expect(c.closed).toEqual({ code: 1001, reason: 'going away', by: 'server' });
    expect(events).toEqual(['closed 1001', 'destroy stop']);
  });

  it('rejects with TSWS_ERR_START_PROTOCOLS_DISABLED when init throws, as start-up does', async () => {
    const broken = defineProtocol<{ x: number }>({ name: 'broken', callbacks: { init: () => { throw new Error('no init'); } } });
    await expect(testProtocol(broken)).rejects.toMatchObject({ code: 'TSWS_ERR_START_PROTOCOLS_DISABLED', message: expect.stringContaining('no init') });
  });
});
