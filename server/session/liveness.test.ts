/** @module The silence sweep's rule, on sessions that record pings and cuts: quiet peers are pinged, those silent a bound after the ping are cut. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SilenceSweep, heard, sweepSecs, type Audible } from './liveness.ts';

class Peer implements Audible {
  heardAt: number;
  pingedAt = 0;
  isOpen = true;
  pings = 0;
  cut = false;
  readonly peer = '192.0.2.1';
  constructor(at: number) {
    this.heardAt = at;
  }
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.cut = true;
    this.isOpen = false;
  }
}

const BOUND = 10;

/** The cut runs at once unless a test holds it (`later`), as the event loop holds it until the sockets were read. */
function sweepOver(peers: Peer[], later?: (() => void)[]) {
  const sweep = new SilenceSweep(peers, pino({ level: 'silent' }), (fn) => (later ? later.push(fn) : fn()));
  // configure() starts a timer; the tests drive sweep() themselves, so stop it at once.
  sweep.configure(BOUND);
  sweep.stop();
  return sweep;
}

describe('the silence sweep', () => {
  it('leaves a peer heard within the bound alone', () => {
    const p = new Peer(100);
    sweepOver([p]).sweep(100 + BOUND - 1);
    expect(p.pings).toBe(0);
    expect(p.cut).toBe(false);
  });

  it('pings a peer quiet for the bound, and keeps one that answers', () => {
    const p = new Peer(100);
    const sweep = sweepOver([p]);
    sweep.sweep(100 + BOUND);
    expect(p.pings).toBe(1);
    // The pong, stamped in the same coarse second as the ping.
    p.heardAt = 100 + BOUND;
    sweep.sweep(100 + 2 * BOUND + 1);
    expect(p.cut).toBe(false);
    // Quiet again for a whole bound since that pong: pinged again, not cut.
    expect(p.pings).toBe(2);
  });

  it('cuts a peer silent for a whole bound after its ping, not sooner', () => {
    const p = new Peer(100);
    const sweep = sweepOver([p]);
    sweep.sweep(100 + BOUND);
    sweep.sweep(100 + 2 * BOUND - 1);
    expect(p.cut).toBe(false);
    expect(p.pings).toBe(1);
    sweep.sweep(100 + 2 * BOUND);
    expect(p.cut).toBe(true);
  });

  it('counts a pong read after the sweep found the peer silent, before the cut: after a stall of the loop it came in time', () => {
    const p = new Peer(100);
    const later: (() => void)[] = [];
    const sweep = sweepOver([p], later);
    sweep.sweep(100 + BOUND);
    later.splice(0).forEach((fn) => fn());
    sweep.sweep(100 + 2 * BOUND + 5);
    // The loop then reads the pong that waited in the socket during the stall.
    p.heardAt = 100 + 2 * BOUND + 5;
    later.splice(0).forEach((fn) => fn());
    expect(p.cut).toBe(false);
    sweep.sweep(100 + 3 * BOUND + 6);
    expect(p.pings).toBe(2);
  });

  it('counts a whole message after the ping as an answer', () => {
    const p = new Peer(100);
    const sweep = sweepOver([p]);
    sweep.sweep(100 + BOUND);
    p.heardAt = 100 + BOUND + 3;
    sweep.sweep(100 + 2 * BOUND + 2);
    expect(p.cut).toBe(false);
    expect(p.pings).toBe(1);
  });

  it('skips sockets already closing', () => {
    const p = new Peer(100);
    p.isOpen = false;
    const sweep = sweepOver([p]);
    sweep.sweep(100 + BOUND);
    sweep.sweep(100 + 3 * BOUND);
    expect(p.pings).toBe(0);
    expect(p.cut).toBe(false);
  });

  it('moves the clock the transport handlers stamp from', () => {
    sweepOver([]).sweep(12345);
    expect(heard.now).toBe(12345);
  });

  it('sweeps a quarter of the bound apart, from 1 to 5 s', () => {
    expect([1, 2, 8, 30, 3600].map(sweepSecs)).toEqual([1, 1, 2, 5, 5]);
  });
});
