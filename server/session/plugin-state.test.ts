/** @module A plugin's own state (apiVersion 2): one per vhost, before its protocols' inits, shared by them, destroyed after them; its init failing disables them. */
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';

const kits: ProtocolKit[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

/** Two protocols of one plugin, both enabled on the kit's vhost. */
const both = { vhost: { 'ws-protocols': [{ teller: {} }, { counter: {} }] } };

function plugin(events: string[], opts: { readonly failInit?: boolean } = {}) {
  return definePlugin({
    apiVersion: 2,
    name: 'shared',
    init(vhost) {
      events.push(`plugin init ${vhost.vhostName}`);
      if (opts.failInit) throw new Error('no state today');
      return { told: 0, ticks: 0, seen: new Set<number>() };
    },
    destroy(vhost, why) {
      events.push(`plugin destroy ${why} told=${vhost.state.told}`);
    },
    protocols: (protocol) => [
      protocol({
        name: 'teller',
        init(vhost) {
          events.push('teller init');
          vhost.setInterval(10, () => vhost.plugin.ticks++);
          return { at: vhost.plugin };
        },
        destroy: () => void events.push('teller destroy'),
        websocket: {
          receive(conn) {
            conn.vhost.plugin.told++;
            conn.vhost.plugin.seen.add(conn.id);
          },
        },
      }),
      protocol({
        name: 'counter',
        init: () => void events.push('counter init'),
        destroy: () => void events.push('counter destroy'),
        websocket: {
          established: (conn) => conn.requestWritable(),
          writable(conn) {
            conn.write(`told ${conn.vhost.plugin.told}`);
          },
        },
      }),
    ],
  });
}

describe("a plugin's own state", () => {
  it('is made once per vhost before its protocols, and both protocols see the same object', async () => {
    const events: string[] = [];
    const kit = await testProtocol(plugin(events), both);
    kits.push(kit);
    expect(events).toEqual(['plugin init localhost', 'teller init', 'counter init']);
    const teller = kit.connect({ protocol: 'teller' });
    teller.send('a');
    teller.send('b');
    const counter = kit.connect({ protocol: 'counter' });
    expect(counter.texts).toEqual(['told 2']);
    expect(kit.vhost.plugin).toBe((kit.vhost.state as { at: unknown }).at);
  });

  it("runs its timers on the server's clock, and is destroyed after the last of its protocols", async () => {
    const events: string[] = [];
    const kit = await testProtocol(plugin(events), both);
    kit.advance(35);
    expect((kit.vhost.plugin as { ticks: number }).ticks).toBe(3);
    kit.connect({ protocol: 'teller' }).send('x');
    await kit.stop();
    expect(events.slice(3).sort()).toEqual(['counter destroy', 'plugin destroy stop told=1', 'teller destroy']);
    expect(events.at(-1)).toBe('plugin destroy stop told=1');
  });

  it('disables every protocol of the plugin on the vhost when its init throws: start-up stops, naming each', async () => {
    const events: string[] = [];
    const failed = testProtocol(plugin(events, { failInit: true }), both);
    await expect(failed).rejects.toMatchObject({ code: 'TSWS_ERR_START_PROTOCOLS_DISABLED' });
    await expect(failed).rejects.toThrow(/"teller" on vhost "localhost": the plugin's init failed \(no state today\).*"counter"/);
    // Neither protocol's init ran, nor the plugin's destroy (it never had a state).
    expect(events).toEqual(['plugin init localhost']);
  });
});
