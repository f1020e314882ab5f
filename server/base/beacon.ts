/** @module The serving loop's heartbeat and whereabouts (which vhost, protocol and callback it is in), in shared memory a watcher on another thread reads. */

/**
 * Layout of the Int32Array over one serving thread's SharedArrayBuffer:
 * BEAT is bumped by a timer of the serving loop (a loop that stops bumping it
 * is blocked); WHERE is the host and callback being run, packed as
 * hostId * 32 + callback index, 0 outside plugin code; INTERRUPTS is bumped by
 * the watcher each time it interrupts the loop, HELD_MS is how long it was held.
 */
export const BEAT = 0;
export const WHERE = 1;
export const INTERRUPTS = 2;
export const HELD_MS = 3;
export const CELLS = 4;

/** How often a serving loop bumps BEAT. */
export const BEAT_MS = 250;

/** Every callback a plugin can be inside of; the index goes into WHERE. */
export const BEACON_CALLBACKS = [
  'none', 'init', 'destroy', 'filter', 'established', 'receive', 'writable', 'closed',
  'checkAccess', 'http', 'httpBody', 'httpBodyCompletion', 'httpWritable', 'httpClosed', 'timer', 'session',
  'clientEstablished', 'clientReceive', 'clientWritable', 'clientConnectionError', 'clientClosed', 'clientReconnecting',
  // apiVersion 2's HTTP gate (version 1's is checkAccess).
  'http.filter',
] as const;
export type BeaconCallback = (typeof BEACON_CALLBACKS)[number];
const INDEX = new Map<string, number>(BEACON_CALLBACKS.map((c, i) => [c, i]));

export interface HostName {
  readonly vhost: string;
  readonly plugin: string;
  readonly protocol: string;
}

/** Ids never reused: a reload's new hosts get new ones (id 0 is "none"). */
const hosts: HostName[] = [{ vhost: '-', plugin: '-', protocol: '-' }];
/** Until a watcher is attached the writes go to memory nobody reads: no branch on the hot path. */
let cells: Int32Array<ArrayBufferLike> = new Int32Array(CELLS);

export function registerHost(name: HostName): number {
  hosts.push(name);
  return hosts.length - 1;
}

/** The packed WHERE value of `callback` run for host `hostId`; computed once per host and callback. */
export function whereOf(hostId: number, callback: BeaconCallback): number {
  return hostId * 32 + (INDEX.get(callback) ?? 0);
}

/** The callback a WHERE value names ('none' for 0). */
export function callbackOf(where: number): BeaconCallback {
  return BEACON_CALLBACKS[where % 32] ?? 'none';
}

/**
 * Around every plugin callback: `const outer = enter(where)`, then
 * `leave(outer)` in a finally. One store each, no allocation. A callback the
 * watcher interrupted never reaches its finally: the heartbeat resets WHERE
 * (it runs outside any callback).
 */
export function enter(where: number): number {
  const outer = cells[WHERE] as number;
  cells[WHERE] = where;
  return outer;
}

export function leave(outer: number): void {
  cells[WHERE] = outer;
}

export interface Interruption extends HostName {
  readonly callback: string;
  readonly ms: number;
}

export interface Beacon {
  /**
   * Reports an interruption not reported yet. The heartbeat calls it; so
   * must whatever the loop runs first after an interruption that may end
   * the thread (a "stop" message from the main thread): the message can
   * come before the next beat, and the thread would exit unreported.
   */
  check(): void;
  detach(): void;
}

/**
 * Starts the heartbeat on `buffer` (the watcher's view of this thread).
 * `interrupted` runs on this loop after the watcher interrupted it, with
 * what was running then.
 */
export function attachBeacon(buffer: SharedArrayBuffer, intervalMs: number, interrupted: (what: Interruption) => void): Beacon {
  cells = new Int32Array(buffer);
  let seen = Atomics.load(cells, INTERRUPTS);
  const check = () => {
    const n = Atomics.load(cells, INTERRUPTS);
    if (n === seen) return;
    seen = n;
    // The watcher bumps INTERRUPTS before it interrupts, and WHERE still names what was
    // running (leave() in any callback run since restores it; only the beat resets it).
    const where = Atomics.load(cells, WHERE);
    const host = hosts[Math.floor(where / 32)] ?? (hosts[0] as HostName);
    interrupted({ ...host, callback: callbackOf(where), ms: Atomics.load(cells, HELD_MS) });
  };
  const timer = setInterval(() => {
    check();
    Atomics.store(cells, WHERE, 0);
    Atomics.add(cells, BEAT, 1);
  }, intervalMs);
  timer.unref();
  return { check, detach: () => clearInterval(timer) };
}
