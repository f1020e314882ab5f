/** @module The one writable runner of websocket connections and HTTP transactions: one write per writable callback, many writables per cork. */
import { tswsError } from '../base/errors.ts';
import { callbackOf, enter, leave } from '../base/beacon.ts';
import { CallbackRunner, type CallbackOwner } from './invoke.ts';

/** What a WritableRunner serves. */
export interface WritableOwner extends CallbackOwner {
  readonly protocol: string;
  /** Runs `fn` with its socket corked (uWS.js cork: what the writables write leaves in one syscall). */
  cork(fn: () => void): void;
  /**
   * Before each writable: may one run now? False once closed or closing, or
   * choked (a connection asks the transport what is buffered here, and
   * chokes itself past its threshold).
   */
  mayWrite(): boolean;
  /** After each writable: does it want another anyway (published messages waiting)? */
  wantsMore(): boolean;
  /**
   * What the writable callbacks are called with, when not the owner itself
   * (a client connection's owner is its private side). Read once per
   * batch; absent on served connections, so they keep no field for it.
   */
  readonly writableSubject?: unknown;
}

/** A writable callback (writable, httpWritable); its owner's type is erased through the shared cork trampoline. */
type Writable = ((owner: never) => unknown) | undefined;

const IDLE = 0;
const OPEN = 1;
const WRITTEN = 2;

/**
 * lws's rule (READMEs/README.coding.md): write only from the writable
 * callback, once per callback. `claim()` on every write enforces it: a
 * second claim in one writable, or a claim outside one, throws the coded
 * error naming the protocol and the callback that tried.
 */
export class WritableRunner extends CallbackRunner<WritableOwner> {
  /** The plugin asked for a writable that has not run yet. */
  want = false;
  /** Inside a cork service() opened: an HTTP transaction defers closing past it. */
  corked = false;
  #phase = IDLE;

  /**
   * The cork callback is one function shared by every runner, told what to
   * run through these statics: no closure (and context) kept per connection.
   */
  static #corking: WritableRunner | undefined;
  static #corkBudget = 0;
  static #corkWhere = 0;
  static #corkFn: Writable = undefined;
  static #corkRan = 0;
  static readonly #corkedLoop = () => {
    const runner = WritableRunner.#corking;
    if (runner) WritableRunner.#corkRan = runner.#loop(WritableRunner.#corkBudget, WritableRunner.#corkWhere, WritableRunner.#corkFn);
  };

  claim(): void {
    if (this.#phase === OPEN) {
      this.#phase = WRITTEN;
      return;
    }
    const protocol = this.owner.protocol;
    if (this.#phase === WRITTEN) throw tswsError('TSWS_ERR_BACK_TO_BACK_WRITE', { protocol });
    throw tswsError('TSWS_ERR_WRITE_OUTSIDE_WRITABLE', { protocol, callback: this.where === 0 ? 'outside any callback' : callbackOf(this.where) });
  }

  /**
   * Runs up to `budget` writables (`fn` at WHERE `where`), inside one cork of
   * the owner's socket, or directly when the transport has it corked already
   * (its own data event: uWS.js's cork() would only call back). Returns how
   * many ran; the owner re-queues itself if it still wants more.
   */
  service(budget: number, where: number, fn: Writable, alreadyCorked: boolean): number {
    this.depth++;
    try {
      if (alreadyCorked) return this.#loop(budget, where, fn);
      const outer = WritableRunner.#corking;
      const outerBudget = WritableRunner.#corkBudget;
      const outerWhere = WritableRunner.#corkWhere;
      const outerFn = WritableRunner.#corkFn;
      const wasCorked = this.corked;
      WritableRunner.#corking = this;
      WritableRunner.#corkBudget = budget;
      WritableRunner.#corkWhere = where;
      WritableRunner.#corkFn = fn;
      WritableRunner.#corkRan = 0;
      this.corked = true;
      try {
        this.owner.cork(WritableRunner.#corkedLoop);
        return WritableRunner.#corkRan;
      } finally {
        this.corked = wasCorked;
        WritableRunner.#corking = outer;
        WritableRunner.#corkBudget = outerBudget;
        WritableRunner.#corkWhere = outerWhere;
        WritableRunner.#corkFn = outerFn;
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * The writables of one service. One try, one beacon entry and one
   * runner entry around them all rather than run() around each (a fan-out
   * member runs ~8 per batch): a writable that throws fails its owner as
   * run() would (1011, or 500 for HTTP), which ends the loop, since a
   * failed owner may not write again; a rejected promise fails it later.
   */
  #loop(budget: number, where: number, fn: Writable): number {
    const owner = this.owner;
    const subject = owner.writableSubject ?? owner;
    let ran = 0;
    if (!fn) {
      while (this.want && ran < budget && owner.mayWrite()) {
        this.want = false;
        ran++;
        if (owner.wantsMore()) this.want = true;
      }
      return ran;
    }
    const outerWhere = this.enterSeries(where);
    const beacon = enter(where);
    try {
      while (this.want && ran < budget && owner.mayWrite()) {
        this.want = false;
        ran++;
        this.#phase = OPEN;
        // `subject` is the conn or txn `fn` was written for (see Writable).
        const result = fn(subject as never);
        this.#phase = IDLE;
        if (result instanceof Promise) result.catch((err: unknown) => this.fail(where, err));
        if (owner.wantsMore()) this.want = true;
      }
    } catch (err) {
      this.#phase = IDLE;
      this.fail(where, err);
      if (owner.wantsMore()) this.want = true;
    } finally {
      leave(beacon);
      this.leaveSeries(outerWhere);
    }
    return ran;
  }

  protected override reset(): void {
    super.reset();
    this.#phase = IDLE;
    this.corked = false;
  }
}
