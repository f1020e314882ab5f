import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { connect, type ChannelClient, type ClientState, type Timers } from 'tsws/client';
import { freePort } from './helpers/free-port.ts';
import { until } from './helpers/tcp-cut.ts';

/*
 * The reconnect policy on real sockets (a port nobody listens on, then a ws
 * server on it, then one that never answers the upgrade), with the clock and
 * the random source injected: the test reads each delay the client chose and
 * runs the timer itself, so nothing depends on how fast this machine is.
 */
class ManualTimers implements Timers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 0;
  setTimeout(fn: () => void, ms: number): number {
    this.pending.set(++this.#next, { fn, ms });
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs the one pending timer of `ms`. */
  fire(ms: number): void {
    const hits = [...this.pending].filter(([, t]) => t.ms === ms);
    expect(hits, `one pending timer of ${ms} ms among ${[...this.pending.values()].map((t) => t.ms).join(', ')}`).toHaveLength(1);
    const [id, t] = hits[0] as [number, { fn: () => void }];
    this.pending.delete(id);
    t.fn();
  }
}

const clients: ChannelClient[] = [];
const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  for (const f of closers) f();
});

function watch(c: ChannelClient): ClientState[] {
  const states: ClientState[] = [];
  c.on('state', (s) => void states.push(s));
  return states;
}

const lastReconnect = (states: ClientState[]) => {
  const s = states.at(-1);
  return s?.state === 'reconnecting' ? s : undefined;
};

describe('tsws/client reconnects with a growing, capped, jittered delay', () => {
  it('grows by the factor up to maxMs, takes up to the jitter share off at random, and starts over after an open', async () => {
    const port = await freePort();
    const timers = new ManualTimers();
    const draws = [0, 0.5, 0.25, 0.999, 0, 0.5, 0.75, 0.1];
    const c = connect(`ws://127.0.0.1:${port}/`, {
      WebSocket, timers, random: () => draws.shift() ?? 0, backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 },
    });
    clients.push(c);
    const states = watch(c);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      await until(() => lastReconnect(states)?.attempt === attempt);
      const delay = lastReconnect(states)?.delayMs ?? -1;
      delays.push(delay);
      if (attempt < 7) timers.fire(delay);
    }
    // 100 × 2^(n−1) capped at 1000, times 1 − 0.5 × the draw.
    expect(delays).toEqual([100, 150, 350, 400, 1000, 750, 625]);
    // (attempt 0 was the state connect() returned with, before a listener could be added)
    expect(states.filter((s) => s.state === 'connecting').map((s) => (s.state === 'connecting' ? s.attempt : -1))).toEqual([1, 2, 3, 4, 5, 6]);

    // A server appears: the next attempt opens, and the next loss starts from initialMs again.
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    closers.push(() => wss.close());
    await new Promise((resolve) => wss.once('listening', resolve));
    timers.fire(625);
    await until(() => c.state.state === 'open');
    for (const peer of wss.clients) peer.terminate();
    await until(() => lastReconnect(states) !== undefined);
    expect(lastReconnect(states)).toMatchObject({ attempt: 1, delayMs: 95 });
  });

  it('gives up on a connection that does not open within openTimeoutMs and tries again', async () => {
    // Takes the TCP connection and never answers the upgrade.
    const held: net.Socket[] = [];
    const mute = net.createServer((s) => void held.push(s));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const s of held) s.destroy();
      mute.close();
    });
    const addr = mute.address() as net.AddressInfo;
    const timers = new ManualTimers();
    const c = connect(`ws://127.0.0.1:${addr.port}/`, { WebSocket, timers, random: () => 0, openTimeoutMs: 4321, backoff: { initialMs: 50 } });
    clients.push(c);
    const states = watch(c);
    await until(() => held.length === 1);
    expect(c.state).toEqual({ state: 'connecting', attempt: 0 });
    timers.fire(4321);
    expect(lastReconnect(states)).toEqual({ state: 'reconnecting', attempt: 1, delayMs: 50, code: 1006, reason: 'not open within 4321 ms' });
    c.close();
    expect(c.state).toMatchObject({ state: 'closed' });
    expect(timers.pending.size).toBe(0);
  });

  it("stops for good when `reconnect` says no, rejecting the publishes it still held; a malformed URL throws from connect", async () => {
    const port = await freePort();
    const asked: number[] = [];
    const c = connect(`ws://127.0.0.1:${port}/`, { WebSocket, reconnect: ({ code }) => {
      asked.push(code);
      return false;
    } });
    clients.push(c);
    const held = c.publish('room:x', 'never sent');
    await expect(held).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_CLOSED', channel: 'room:x' });
    expect(asked).toEqual([1006]);
    expect(c.state).toMatchObject({ state: 'closed', code: 1006 });
    await expect(c.publish('room:x', 'after')).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_CLOSED' });
    expect(() => connect('not a url', { WebSocket })).toThrow();
  });
});
