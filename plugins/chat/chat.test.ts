import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { ChatClient, startChat } from '../../test/helpers/chat.ts';

let srv: Running;
/** history 3, no age bound. */
let forgetful: Running;
beforeAll(async () => {
  srv = await startChat({ history: '5' });
  forgetful = await startChat({ history: '3', 'history-keep-secs': '0' });
});
afterAll(async () => {
  await srv.stop();
  await forgetful.stop();
  removeConfigDirs();
});

const url = () => srv.wsUrl('/');

describe('chat: joining and talking', () => {
  it('welcomes a joiner with the member list and an empty history, then tells the room', async () => {
    const { client: alice, welcome } = await ChatClient.joined(url(), 'alice', 'r1');
    expect(welcome).toMatchObject({ type: 'welcome', room: 'r1', name: 'alice', channel: 'room:r1', members: ['alice'], history: [], offset: 0 });
    expect(typeof welcome.time).toBe('number');
    const { client: bob, welcome: w2 } = await ChatClient.joined(url(), 'bob', 'r1');
    expect(w2.members).toEqual(['alice', 'bob']);
    expect(await alice.expect('joined')).toMatchObject({ room: 'r1', name: 'bob' });
    await alice.close();
    await bob.close();
  });

  it('delivers a message to every member, the sender included, with the server-known name, a server time and its offset in the room channel', async () => {
    const { client: alice } = await ChatClient.joined(url(), 'alice', 'r2');
    const { client: bob } = await ChatClient.joined(url(), 'bob', 'r2');
    await alice.expect('joined');
    const before = Date.now();
    // A client cannot speak as someone else: extra fields are ignored, the name is the joined one.
    alice.request({ type: 'send', text: 'hello <b>bob</b>', name: 'bob', time: 1 });
    for (const c of [alice, bob]) {
      const m = await c.expect('message');
      expect(m).toMatchObject({ room: 'r2', name: 'alice', text: 'hello <b>bob</b>', offset: 1 });
      expect(m.time).toBeGreaterThanOrEqual(before);
    }
    bob.send('hi');
    expect(await alice.expect('message')).toMatchObject({ name: 'bob', text: 'hi', offset: 2 });
    await alice.close();
    await bob.close();
  });

  it('sends the last N messages of the room to whoever joins, oldest first', async () => {
    const { client: alice } = await ChatClient.joined(url(), 'alice', 'r3');
    for (let i = 1; i <= 7; i++) alice.send(`m${i}`);
    for (let i = 1; i <= 7; i++) expect((await alice.expect('message')).text).toBe(`m${i}`);
    const { welcome } = await ChatClient.joined(url(), 'carol', 'r3');
    expect(welcome.history.map((m) => [m.offset, m.name, m.text])).toEqual([3, 4, 5, 6, 7].map((i) => [i, 'alice', `m${i}`]));
    await alice.close();
  });

  it('trims names and refuses a name taken in the room, whatever its case, with a clear error; other rooms are free', async () => {
    const { client: alice, welcome } = await ChatClient.joined(url(), '  Alice  ', 'r4');
    expect(welcome.name).toBe('Alice');
    const other = await ChatClient.open(url());
    other.request({ type: 'join', room: 'r4', name: 'alice' });
    const err = await other.expect('error');
    expect(err).toMatchObject({ code: 'name-taken', request: 'join' });
    expect(err.message).toContain('"alice" is already taken in room "r4"');
    // refused, it is in no room: sending is refused too, and alice heard nothing
    other.send('sneaky');
    expect(await other.expect('error')).toMatchObject({ code: 'not-joined', request: 'send' });
    other.request({ type: 'join', room: 'r4-other', name: 'alice' });
    expect(await other.expect('welcome')).toMatchObject({ room: 'r4-other', name: 'alice' });
    alice.request({ type: 'who' });
    expect(await alice.expect('members')).toEqual({ type: 'members', room: 'r4', members: ['Alice'] });
    await alice.close();
    await other.close();
  });

  it('tells the room who left (a presence leave), and answers "who" with the members in join order', async () => {
    const { client: a } = await ChatClient.joined(url(), 'a', 'r5');
    const { client: b } = await ChatClient.joined(url(), 'b', 'r5');
    const { client: c } = await ChatClient.joined(url(), 'c', 'r5');
    await a.until('joined', (j) => j.name === 'c');
    a.request({ type: 'who' });
    expect((await a.expect('members')).members).toEqual(['a', 'b', 'c']);
    b.request({ type: 'leave' });
    expect(await b.until('left')).toMatchObject({ room: 'r5', name: 'b' });
    // The server ends its subscription to the room's channel: nothing more of r5 reaches it.
    expect(await b.expect('unsubscribed')).toEqual({ type: 'unsubscribed', room: 'r5' });
    expect(await a.expect('gone')).toMatchObject({ name: 'b' });
    await c.close();
    expect(await a.expect('gone')).toMatchObject({ name: 'c' });
    // b left the room: it hears nothing more of it
    a.send('after');
    expect((await a.expect('message')).text).toBe('after');
    b.request({ type: 'who' });
    expect(await b.expect('error')).toMatchObject({ code: 'not-joined', request: 'who' });
    a.request({ type: 'who' });
    expect((await a.expect('members')).members).toEqual(['a']);
    await a.close();
    await b.close();
  });

  it('moves a member that joins another room: left there, welcomed here, and the old room is silent for it', async () => {
    const { client: a } = await ChatClient.joined(url(), 'a', 'r6');
    const { client: mover } = await ChatClient.joined(url(), 'mover', 'r6');
    await a.expect('joined');
    mover.request({ type: 'join', room: 'r6b', name: 'mover' });
    expect(await mover.expect('left')).toMatchObject({ room: 'r6', name: 'mover' });
    const moved = await mover.expect('welcome');
    expect(moved).toMatchObject({ room: 'r6b', members: ['mover'] });
    mover.subscribe('r6b', { epoch: moved.epoch, offset: moved.offset });
    await mover.until('subscribed', (x) => x.room === 'r6b');
    expect(await a.expect('gone')).toMatchObject({ name: 'mover' });
    a.send('only for r6');
    mover.send('only for r6b');
    expect(await mover.expect('message')).toMatchObject({ room: 'r6b', text: 'only for r6b' });
    expect(await a.expect('message')).toMatchObject({ room: 'r6', text: 'only for r6' });
    await a.close();
    await mover.close();
  });

  it('keeps an emptied room\'s history for the next joiner by default', async () => {
    const { client: a } = await ChatClient.joined(url(), 'a', 'r7');
    a.send('remember me');
    await a.expect('message');
    await a.close();
    const { client: b, welcome } = await ChatClient.joined(url(), 'b', 'r7');
    expect(welcome.history.map((m) => m.text)).toEqual(['remember me']);
    await b.close();
  });

  it('keeps only the last "history" messages; offsets go on counting after the room empties', async () => {
    const u = forgetful.wsUrl('/');
    const { client: a } = await ChatClient.joined(u, 'a', 'trim');
    for (const t of ['1', '2', '3', '4']) a.send(t);
    for (let i = 0; i < 4; i++) await a.expect('message');
    const { client: b, welcome } = await ChatClient.joined(u, 'b', 'trim');
    expect(welcome.history.map((m) => [m.offset, m.text])).toEqual([[2, '2'], [3, '3'], [4, '4']]);
    await a.close();
    await b.close();
    const { client: c, welcome: later } = await ChatClient.joined(u, 'c', 'trim');
    expect(later.offset).toBe(4);
    c.send('five');
    expect((await c.expect('message')).offset).toBe(5);
    await c.close();
  });

  it('resumes a reconnecting client from its last offset: the messages it missed, in order, then live ones', async () => {
    const { client: a } = await ChatClient.joined(url(), 'a', 'r8');
    const { client: b } = await ChatClient.joined(url(), 'b', 'r8');
    a.send('seen');
    const last = await b.until('message');
    await b.close();
    for (const t of ['missed 1', 'missed 2']) a.send(t);
    await a.until('message', (m) => m.text === 'missed 2');
    // Back on a new connection: join and resubscribe at once, as tsws/client does after a reconnect.
    const b2 = await ChatClient.open(url());
    b2.request({ type: 'join', room: 'r8', name: 'b' });
    b2.subscribe('r8', { epoch: last.epoch, offset: last.offset });
    await b2.expect('welcome');
    expect(await b2.expect('subscribed')).toMatchObject({ recovered: true });
    expect([(await b2.expect('message')).text, (await b2.expect('message')).text]).toEqual(['missed 1', 'missed 2']);
    a.send('live');
    expect(await b2.until('message')).toMatchObject({ text: 'live', offset: last.offset + 3 });
    await a.close();
    await b2.close();
  });

  it('lets a client back under its key take its name while its lost connection still holds it; anyone else gets name-taken', async () => {
    const key = 'k'.repeat(24);
    const first = await ChatClient.open(url());
    await first.join('r9', 'kay', key);
    const other = await ChatClient.open(url());
    other.request({ type: 'join', room: 'r9', name: 'KAY', key: 'x'.repeat(24) });
    expect(await other.expect('error')).toMatchObject({ code: 'name-taken' });
    const again = await ChatClient.open(url());
    expect(await again.join('r9', 'kay', key)).toMatchObject({ name: 'kay', members: ['kay'] });
    for (const c of [first, other, again]) await c.close();
  });

  it('refuses a subscribe to the channel of a room the connection is not in', async () => {
    const c = await ChatClient.open(url());
    c.subscribe('elsewhere');
    expect(await c.expect('channel-error')).toMatchObject({ code: 'TSWS_ERR_CHANNEL_DENIED' });
    await c.close();
  });

  it('goes to room "lobby" when a join names no room', async () => {
    const c = await ChatClient.open(url());
    c.request({ type: 'join', name: 'lobbyist' });
    expect(await c.expect('welcome')).toMatchObject({ room: 'lobby', name: 'lobbyist' });
    await c.close();
  });
});
