/** @module Channels are forgotten: freed when nobody follows them, nobody is a member and nothing is kept; idle ones with history bounded per scope, and a reader of a freed one told 'epoch-changed'. */
import { expect, it } from 'vitest';
import { newChannelStats } from '../metrics/channel-stats.ts';
import { VhostChannels } from './channels.ts';
import { LocalChannelStore } from './local-store.ts';

function setup(idleMax = 10_000) {
  const store = new LocalChannelStore({ holder: 'local', idleMax });
  const channels = new VhostChannels({ store, stats: newChannelStats() }, 'v', 'p');
  let id = 0;
  const conn = () => ({ id: ++id, isOpen: true, deliverPublished: () => undefined });
  return { store, channels, conn };
}

it('frees a channel once its last subscriber and member are gone and it keeps nothing (the audit: 100k subscribes stayed for good)', async () => {
  const { store, channels, conn } = setup();
  const c = conn();
  for (let i = 0; i < 1000; i++) {
    const ch = channels.channel(`room:${i}`);
    await ch.subscribe(c);
    await ch.presence.join(c, { i });
    await ch.publish('hello');
    ch.unsubscribe(c);
    await ch.presence.leave(c);
  }
  expect(store.size).toBe(0);
  // Closing frees what a connection still held, too.
  for (let i = 0; i < 100; i++) await channels.channel(`open:${i}`).subscribe(c);
  expect(store.size).toBe(100);
  channels.connectionClosed(c);
  expect(store.size).toBe(0);
});

it('keeps a channel while someone follows it: its epoch and offsets go on, with no history kept', async () => {
  const { channels, conn } = setup();
  const ch = channels.channel('live');
  await ch.subscribe(conn());
  const a = await ch.publish('1');
  const b = await ch.publish('2');
  expect(b).toEqual({ epoch: a.epoch, offset: 2 });
});

it('bounds idle channels with history per scope, least recently used out; a reader of an evicted one is told epoch-changed', async () => {
  const { store, channels } = setup(2);
  const history = { size: 10 };
  const first = await channels.channel('a', { history }).publish('a1');
  await channels.channel('b', { history }).publish('b1');
  await channels.channel('c', { history }).publish('c1');
  expect(store.size).toBe(2);
  const h = await channels.channel('a', { history }).history({ since: { epoch: first.epoch, offset: 0 } });
  expect(h.recovery).toEqual({ recovered: false, reason: 'epoch-changed' });
  expect(h.messages).toEqual([]);
  // A name used again starts a new epoch: its offsets never repeat the old ones as if they were the same.
  const again = await channels.channel('a', { history }).publish('a2');
  expect(again.offset).toBe(1);
  expect(again.epoch).not.toBe(first.epoch);
  // Another vhost's idle channels have a bound of their own.
  const other = new VhostChannels({ store, stats: newChannelStats() }, 'w', 'p');
  await other.channel('z', { history }).publish('z1');
  expect((await channels.channel('c', { history }).history()).messages.map((m) => m.data)).toEqual(['c1']);
});
