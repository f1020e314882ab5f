/** @module The one invoker of plugin callbacks: a throw or a rejection is counted, logged with its code, and ends only what it ran for. */
import type { Logger } from 'pino';
import { describeError, isTswsError, tswsError, type TswsError } from '../base/errors.ts';
import { callbackOf, enter, leave } from '../base/beacon.ts';

/** The protocol on a vhost a callback belongs to (a ProtocolHost): what a failure is counted, logged and named by. */
export interface CallbackHost {
  readonly vhostName: string;
  readonly protocol: string;
  readonly log: Logger;
  readonly counters: { callbackErrors: number };
}

/**
 * Counts, codes and logs a plugin callback's failure: the one place
 * TSWS_ERR_PLUGIN_CALLBACK_THREW is made. A coded error the plugin provoked
 * (a second write, a write after close) keeps its own code. `where` is the
 * callback's WHERE value (watchdog/beacon.ts), which names it.
 */
export function callbackFailed(host: CallbackHost, where: number, err: unknown, fields?: object): TswsError {
  const callback = callbackOf(where);
  host.counters.callbackErrors++;
  const e = isTswsError(err) ? err : tswsError('TSWS_ERR_PLUGIN_CALLBACK_THREW', { vhost: host.vhostName, protocol: host.protocol, callback, reason: describeError(err) }, err);
  host.log.error({ err, code: e.code, callback, ...fields }, e.message);
  return e;
}

/** What callNow and ask answer when the callback failed (counted and logged already): the caller refuses with 500. */
export const FAILED: unique symbol = Symbol('callback failed');

/** A callback run for a host before any connection exists (a session factory): a throw comes back as FAILED. */
export function callNow<A, B, R>(host: CallbackHost, where: number, fn: (a: A, b: B) => R, a: A, b: B): R | typeof FAILED {
  const outer = enter(where);
  try {
    return fn(a, b);
  } catch (err) {
    callbackFailed(host, where, err);
    return FAILED;
  } finally {
    leave(outer);
  }
}

/** Like callNow, for a callback that may answer later (filter, checkAccess): a rejection comes back as FAILED too. */
export function ask<A, B, R>(host: CallbackHost, where: number, fn: (a: A, b: B) => R | Promise<R>, a: A, b: B): R | typeof FAILED | Promise<R | typeof FAILED> {
  const answer = callNow(host, where, fn, a, b);
  if (!(answer instanceof Promise)) return answer;
  return answer.then(undefined, (err: unknown) => {
    callbackFailed(host, where, err);
    return FAILED;
  });
}

/** What a CallbackRunner runs callbacks for: a websocket connection or an HTTP transaction. */
export interface CallbackOwner {
  readonly vhost: CallbackHost;
  /** Log fields naming it (its id and peer); made only when something failed. */
  failureFields(): object;
  /** One of its callbacks failed, already counted and logged: end it (close 1011, answer 500, or cut). */
  callbackFailed(e: TswsError): void;
}

/** Up to four arguments, passed as they are: no array or closure per call. */
type Callback = (a?: never, b?: never, c?: never, d?: never) => unknown;

/** The runner whose callback is running (innermost first, linked through #outer); for recoverInterrupted. */
let running: CallbackRunner | undefined;

/**
 * Runs one owner's callbacks. Each call enters the watchdog's WHERE, counts
 * its depth (a close asked for inside a callback waits until it returns, so
 * `closed` never runs in the middle of `receive`), and turns a throw or a
 * rejected promise into callbackFailed plus the owner's own ending.
 */
export class CallbackRunner<O extends CallbackOwner = CallbackOwner> {
  /** WHERE of the innermost callback running for this owner; 0 outside any. */
  where = 0;
  /** How deep inside this owner's callbacks (and writable batches) we are. */
  depth = 0;
  /** Typed as the subclass's owner, so a subclass keeps no second reference to it (one per connection). */
  readonly owner: O;
  #outer: CallbackRunner | undefined;

  constructor(owner: O) {
    this.owner = owner;
  }

  run<A, B, C, D>(where: number, fn: ((a: A, b: B, c: C, d: D) => unknown) | undefined, a?: A, b?: B, c?: C, d?: D): void;
  run(where: number, fn: Callback | undefined, a?: never, b?: never, c?: never, d?: never): void {
    if (!fn) return;
    const outerWhere = this.where;
    const beacon = enter(where);
    if (outerWhere === 0) {
      this.#outer = running;
      running = this;
    }
    this.where = where;
    this.depth++;
    try {
      const result = fn(a, b, c, d);
      if (result instanceof Promise) result.catch((err: unknown) => this.fail(where, err));
    } catch (err) {
      this.fail(where, err);
    } finally {
      leave(beacon);
      this.depth--;
      this.where = outerWhere;
      if (outerWhere === 0) {
        running = this.#outer;
        this.#outer = undefined;
      }
    }
  }

  /**
   * What run() does around one callback, done once around a series of
   * callbacks at the same WHERE (WritableRunner's loop, which enters the
   * beacon and catches itself). Returns what leaveSeries restores.
   */
  protected enterSeries(where: number): number {
    const outerWhere = this.where;
    if (outerWhere === 0) {
      this.#outer = running;
      running = this;
    }
    this.where = where;
    this.depth++;
    return outerWhere;
  }

  protected leaveSeries(outerWhere: number): void {
    this.depth--;
    this.where = outerWhere;
    if (outerWhere === 0) {
      running = this.#outer;
      this.#outer = undefined;
    }
  }

  fail(where: number, err: unknown): void {
    const owner = this.owner;
    owner.callbackFailed(callbackFailed(owner.vhost, where, err, owner.failureFields()));
  }

  /** State a callback the watchdog cut left behind; a subclass resets its own too. */
  protected reset(): void {
    this.where = 0;
    this.depth = 0;
  }

  /**
   * After the watchdog interrupted a callback (threads/watchdog.ts): V8
   * unwound it without running a single finally, so every runner it was
   * inside still counts as running. Each is reset and its owner ended with
   * `e` (a websocket closes with 1011, an HTTP request gets 500 or is cut)
   * rather than left open and deaf. Returns how many there were.
   */
  static recoverInterrupted(e: TswsError): number {
    let n = 0;
    for (let r = running; r; n++) {
      const next = r.#outer;
      r.#outer = undefined;
      r.reset();
      r.owner.callbackFailed(e);
      r = next;
    }
    running = undefined;
    return n;
  }
}
