import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { ChatClient, startChat } from '../../test/helpers/chat.ts';
import type { ErrorCode } from './protocol.ts';

let srv: Running;
let strict: Running;
beforeAll(async () => {
  srv = await startChat();
  strict = await startChat({ 'rate-burst': '10', 'rate-per-sec': '1', 'max-rooms': '2' });
});
afterAll(async () => {
  await srv.stop();
  await strict.stop();
  removeConfigDirs();
});

const frame = (o: Record<string, unknown>) => JSON.stringify(o);
const long = (n: number, ch = 'x') => ch.repeat(n);

/** Each: what the offender (already in room "bad", as "offender") sends, and the error code it must get. */
const CASES: readonly [string, string | Buffer, ErrorCode, RegExp][] = [
  ['malformed JSON', '{"type": "send", "text": "hi"', 'bad-json', /not valid JSON/],
  ['a JSON array', '[1, 2]', 'bad-request', /JSON object with a "type"/],
  ['a JSON string', '"send"', 'bad-request', /JSON object with a "type"/],
  ['an object without type', frame({ text: 'hi' }), 'bad-request', /JSON object with a "type"/],
  ['a number as type', frame({ type: 5 }), 'bad-request', /JSON object with a "type"/],
  ['a binary frame', Buffer.from(frame({ type: 'send', text: 'hi' })), 'bad-request', /binary frames/],
  ['an unknown type', frame({ type: 'shout', text: 'hi' }), 'unknown-type', /unknown request type "shout"; known: join, leave, send, who/],
  ['a name of 33 characters', frame({ type: 'join', room: 'elsewhere', name: long(33, 'é') }), 'bad-name', /33 characters long; at most 32/],
  ['a blank name', frame({ type: 'join', room: 'elsewhere', name: '   ' }), 'bad-name', /name is empty/],
  ['a name with markup', frame({ type: 'join', room: 'elsewhere', name: '<b>x</b>' }), 'bad-name', /only letters, digits/],
  ['a missing name', frame({ type: 'join', room: 'elsewhere' }), 'bad-name', /"name" must be a string/],
  ['a room of 33 characters', frame({ type: 'join', room: long(33), name: 'n' }), 'bad-room', /33 characters long/],
  ['a room with a slash', frame({ type: 'join', room: 'a/b', name: 'n' }), 'bad-room', /only letters, digits/],
  ['a message over max-message-length', frame({ type: 'send', text: long(1001) }), 'text-too-long', /1001 characters long; at most 1000/],
  ['a blank message', frame({ type: 'send', text: ' \n ' }), 'bad-text', /message is empty/],
  ['a message with a terminal escape', frame({ type: 'send', text: 'a\u001b[31mred' }), 'bad-text', /control characters/],
  ['a message that is not a string', frame({ type: 'send', text: 42 }), 'bad-text', /"text" must be a string/],
  ['a join key that is not a string', frame({ type: 'join', room: 'elsewhere', name: 'n', key: 5 }), 'bad-request', /"key" must be a string/],
  ['a join of the room it is in', frame({ type: 'join', room: 'bad', name: 'other' }), 'already-joined', /already in room "bad" as "offender"/],
];

describe('chat: bad input gets one clear error and nothing else happens', () => {
  it.each(CASES)('%s', async (_what, data, code, message) => {
    const room = 'bad';
    const { client: observer } = await ChatClient.joined(srv.wsUrl('/'), 'observer', room);
    const { client: offender } = await ChatClient.joined(srv.wsUrl('/'), 'offender', room);
    await observer.expect('joined');
    offender.raw.send(data);
    const err = await offender.expect('error');
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    // Still connected, still in the room under its name, and the room saw nothing of it.
    offender.send('marker');
    expect(await offender.expect('message')).toMatchObject({ name: 'offender', text: 'marker' });
    expect(await observer.expect('message')).toMatchObject({ name: 'offender', text: 'marker' });
    await offender.close();
    await observer.close();
  });

  it('accepts the limits themselves: 32-character names, 1000-character messages', async () => {
    const { client, welcome } = await ChatClient.joined(srv.wsUrl('/'), long(32, 'é'), long(32, 'r'));
    expect(welcome.name).toBe(long(32, 'é'));
    client.send(long(1000, '😀'));
    expect((await client.expect('message')).text).toBe(long(1000, '😀'));
    await client.close();
  });

  it('refuses leave, send and who before a join with "not-joined"', async () => {
    const c = await ChatClient.open(srv.wsUrl('/'));
    for (const type of ['leave', 'send', 'who'] as const) {
      c.request(type === 'send' ? { type, text: 'hi' } : { type });
      expect(await c.expect('error')).toMatchObject({ code: 'not-joined', request: type });
    }
    await c.close();
  });

  it('closes a frame larger than 64 KiB with 1009 (the framework\'s message limit)', async () => {
    const c = await ChatClient.open(srv.wsUrl('/'));
    c.raw.send(frame({ type: 'send', text: long(70 * 1024) }));
    expect((await c.raw.closed).code).toBe(1009);
  });

  it('answers a flood past the rate with a "flooding" error, closes it with 1008, and the room sees the messages before it, in order', async () => {
    const { client: observer } = await ChatClient.joined(strict.wsUrl('/'), 'observer', 'flood');
    const { client: flooder } = await ChatClient.joined(strict.wsUrl('/'), 'flooder', 'flood');
    await observer.expect('joined');
    for (let i = 0; i < 50; i++) flooder.send(`m${i}`);
    const closed = await flooder.raw.closed;
    expect(closed).toEqual({ code: 1008, reason: 'flooding' });
    const errors = flooder.raw.received.map((r) => JSON.parse(r.text) as { type?: string; ch?: string; code?: string }).filter((m) => m.type === 'error' || m.ch === 'error');
    expect(errors).toEqual([expect.objectContaining({ code: 'flooding' })]);
    const seen: string[] = [];
    for (;;) {
      const m = await observer.next();
      if (m.type === 'gone') {
        expect(m).toMatchObject({ name: 'flooder' });
        break;
      }
      if (m.type === 'message') seen.push(m.text);
    }
    expect(seen.length).toBeLessThan(50);
    expect(seen).toEqual(seen.map((_, i) => `m${i}`));
    await observer.close();
  });

  it('refuses a new room past max-rooms; a room its clients all left makes way, a live room does not', async () => {
    const u = strict.wsUrl('/');
    const { client: a } = await ChatClient.joined(u, 'a', 'one');
    a.send('kept');
    await a.expect('message');
    const { client: b } = await ChatClient.joined(u, 'b', 'two');
    const c = await ChatClient.open(u);
    c.request({ type: 'join', room: 'three', name: 'c' });
    expect(await c.expect('error')).toMatchObject({ code: 'too-many-rooms', request: 'join' });
    a.request({ type: 'leave' });
    await a.until('unsubscribed');
    c.request({ type: 'join', room: 'three', name: 'c' });
    expect(await c.expect('welcome')).toMatchObject({ room: 'three' });
    a.request({ type: 'join', room: 'one', name: 'a' });
    expect(await a.expect('error')).toMatchObject({ code: 'too-many-rooms' });
    for (const x of [a, b, c]) await x.close();
  });
});
