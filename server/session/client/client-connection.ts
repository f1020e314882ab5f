/** @module One websocket client connection a plugin opened: lws's CLIENT_* callbacks, one write per writable, backpressure both ways, reconnection. */
import { describeError, tswsError, type TswsError } from '../../base/errors.ts';
import type { Timer, WriteStatus } from '../../plugin/api-base.ts';
import type { ClientCallbacks, ClientConnOn, ClientState } from '../../plugin/api-client.ts';
import { WRITABLE_THRESHOLD, type Serviceable } from '../scheduler.ts';
import { OwnedTimers } from '../timers.ts';
import { WritableRunner } from '../writables.ts';
import { checkClientCloseArgs } from '../close-codes.ts';
import { ClientAttempt, type AttemptEnd } from './client-attempt.ts';
import type { ClientHost } from './client-host.ts';
import { ReceiveFlow } from './receive-flow.ts';
import { Retries } from './retries.ts';
import type { ClientSettings } from './settings.ts';

/**
 * One client connection across its attempts (client-attempt.ts owns each
 * socket, retries.ts the waits between them, receive-flow.ts reading at the
 * plugin's pace). Callbacks and writables run through the same runner as a
 * served connection's (writables.ts, invoke.ts): one write per writable, a
 * throw coded and logged in one place, the watchdog's recovery included.
 */
export class ClientConnection<T, H> implements ClientConnOn<T, H>, Serviceable {
  static #nextId = 1;

  readonly id = ClientConnection.#nextId++;
  readonly url: string;
  /** The subprotocol asked for ("" for none; several joined by ", "). */
  readonly protocol: string;
  readonly vhost: H;
  readonly session: T;
  queued = false;

  readonly #host: ClientHost;
  readonly #settings: ClientSettings;
  readonly #callbacks: ClientCallbacks<T, H>;
  /** Undefined for a connection that does not reconnect. */
  readonly #retries: Retries | undefined;
  readonly #finished: () => void;
  /** The current attempt's socket: set while connecting, open or closing. */
  #attempt: ClientAttempt | undefined;
  #state: ClientState = 'connecting';
  /** No more attempts: the plugin closed it, a callback threw, or the vhost is going. */
  #final = false;
  #lastError: TswsError | undefined;
  readonly #runner: WritableRunner;
  #pendingClose: { code: number; reason: string } | undefined;
  #choked = false;
  /** Inside one of this connection's own events: #afterEvent serves writables, no need to queue. */
  #inEvent = false;
  #timers: OwnedTimers | undefined;
  /** The owner was told this connection is over. */
  #done = false;
  readonly #receive = new ReceiveFlow({
    deliver: (data, isBinary) => this.#deliver(data, isBinary),
    canDeliver: () => this.#state === 'open' && !this.#pendingClose,
    pauseSocket: () => this.#attempt?.pause(),
    resumeSocket: () => this.#attempt?.resume(),
  });
  #acceptedProtocol = '';
  #handshakeStatus: number | undefined;

  constructor(host: ClientHost, settings: ClientSettings, callbacks: ClientCallbacks<T, H>, view: H, session: T, finished: () => void) {
    this.#host = host;
    this.#settings = settings;
    this.url = settings.url;
    this.protocol = settings.subprotocol;
    this.#callbacks = callbacks;
    this.vhost = view;
    this.session = session;
    this.#finished = finished;
    this.#retries = Retries.of(settings.reconnect);
    // The runner's owner is this connection's private side: `vhost` here is the plugin's view, not the host failures are counted on.
    const owner = {
      protocol: host.protocol,
      vhost: host,
      // `ws` writes each frame to its socket as it is sent: there is no batch to open.
      cork: (fn: () => void) => fn(),
      mayWrite: () => this.#mayWrite(),
      wantsMore: () => false,
      failureFields: () => ({ client: this.id, url: this.url }),
      callbackFailed: (e: TswsError) => this.#callbackFailed(e),
      writableSubject: this,
    };
    this.#runner = new WritableRunner(owner);
  }

  get state(): ClientState {
    return this.#state;
  }

  get isOpen(): boolean {
    return this.#state === 'open' && this.#pendingClose === undefined;
  }

  get bufferedAmount(): number {
    return this.#attempt && (this.#state === 'open' || this.#state === 'closing') ? this.#attempt.bufferedAmount : 0;
  }

  get lastError(): TswsError | undefined {
    return this.#lastError;
  }

  get acceptedProtocol(): string {
    return this.#acceptedProtocol;
  }

  get handshakeStatus(): number | undefined {
    return this.#handshakeStatus;
  }

  get receivePaused(): boolean {
    return this.#receive.paused;
  }

  // ---- the plugin-facing API ---------------------------------------------

  requestWritable(): void {
    // While connecting it is remembered for the open, as on a served connection; between attempts it is dropped.
    if (this.#state !== 'open' && this.#state !== 'connecting') return;
    this.#runner.want = true;
    if (this.#state === 'open' && !this.#choked && !this.#inEvent) this.#host.scheduler.enqueue(this);
  }

  write(data: string | Uint8Array | ArrayBuffer, isBinary: boolean = typeof data !== 'string'): WriteStatus {
    this.#runner.claim();
    const attempt = this.#attempt;
    if (!this.isOpen || !attempt) throw tswsError('TSWS_ERR_WRITE_AFTER_CLOSE', { protocol: this.#host.protocol });
    attempt.send(data, isBinary);
    return attempt.bufferedAmount > WRITABLE_THRESHOLD ? 'backpressure' : 'sent';
  }

  close(code = 1000, reason = ''): void {
    this.#checkClose(code, reason);
    this.#final = true;
    this.#end(code, reason);
  }

  reconnect(code = 1000, reason = ''): void {
    this.#checkClose(code, reason);
    if (!this.#retries) this.#final = true;
    this.#end(code, reason);
  }

  resetBackoff(): void {
    this.#retries?.reset();
  }

  pauseReceive(): void {
    this.#receive.pause();
  }

  resumeReceive(): void {
    this.#receive.resume();
  }

  setTimeout(ms: number, fn: () => void): Timer {
    return this.#ownedTimers().setTimeout(ms, fn);
  }

  setInterval(ms: number, fn: () => void): Timer {
    return this.#ownedTimers().setInterval(ms, fn);
  }

  // ---- called by the ClientSet -------------------------------------------

  /** The first attempt: `ws` throws at once only for what no retry would fix (a header it cannot send). */
  start(): void {
    try {
      this.#connect();
    } catch (err) {
      this.#final = true;
      this.#finish();
      throw tswsError('TSWS_ERR_CLIENT_OPTIONS', { ...this.#settings.at, reason: describeError(err) }, err);
    }
  }

  /**
   * The vhost is going (stop or reload): for good, at once. An established
   * connection says 1001 to the server and gets clientClosed now, before the
   * plugin's destroy runs, as lws closes a vhost's wsi before PROTOCOL_DESTROY.
   */
  cancel(): void {
    if (this.#state === 'closed') return;
    this.#final = true;
    const wasOpen = this.#state === 'open' || this.#state === 'closing';
    this.#detach()?.abandon(1001, 'server stopping');
    this.#state = 'closed';
    if (wasOpen) this.#runner.run(this.#host.where.clientClosed, this.#callbacks.clientClosed, this, 1001, 'server stopping');
    this.#finish();
  }

  // ---- one attempt -------------------------------------------------------

  #connect(): void {
    this.#state = 'connecting';
    // Events for this attempt only: an abandoned attempt reports nothing.
    this.#attempt = new ClientAttempt(this.#settings, {
      opened: () => this.#opened(),
      // Once closing, what the server still sends before its close frame is not the plugin's.
      message: (data, isBinary) => this.isOpen && this.#receive.received(data, isBinary),
      sent: () => this.#sent(),
      ended: (end) => this.#ended(end),
    });
  }

  #opened(): void {
    this.#state = 'open';
    this.#lastError = undefined;
    const attempt = this.#attempt;
    this.#acceptedProtocol = attempt?.protocol ?? '';
    this.#handshakeStatus = attempt?.status;
    this.#receive.opened();
    this.#retries?.established();
    this.#inEvent = true;
    this.#runner.run(this.#host.where.clientEstablished, this.#callbacks.clientEstablished, this);
    this.#afterEvent();
  }

  #deliver(data: Buffer, isBinary: boolean): void {
    if (!this.isOpen) return;
    this.#inEvent = true;
    this.#runner.run(this.#host.where.clientReceive, this.#callbacks.clientReceive, this, data, isBinary);
    this.#afterEvent();
  }

  /** The socket is gone (either side, or a failed attempt): lws CLIENT_CLOSED or CLIENT_CONNECTION_ERROR, then maybe a retry. */
  #ended(end: AttemptEnd): void {
    this.#receive.flush();
    if (!end.established) this.#handshakeStatus = end.status;
    this.#detach();
    // Set before the callbacks, so a close() from inside them ends the retries.
    this.#state = !this.#final && this.#retries ? 'waiting' : 'closed';
    this.#lastError = end.error;
    if (end.established) this.#runner.run(this.#host.where.clientClosed, this.#callbacks.clientClosed, this, end.code, end.reason);
    else {
      const err = end.error;
      this.#host.log.debug({ code: err.code, client: this.id }, err.message);
      this.#runner.run(this.#host.where.clientConnectionError, this.#callbacks.clientConnectionError, this, err);
    }
    this.#next();
  }

  /** Schedules the next attempt when the policy allows one, else ends. */
  #next(): void {
    if (this.#final || !this.#retries) return this.#finish();
    const plan = this.#retries.plan();
    this.#state = 'waiting';
    this.#runner.run(this.#host.where.clientReconnecting, this.#callbacks.clientReconnecting, this, plan);
    if (this.#final) return this.#finish();
    this.#retries.wait(plan, () => this.#retry());
  }

  #retry(): void {
    if (this.#state !== 'waiting') return;
    try {
      this.#connect();
    } catch (err) {
      // Options that worked for the first attempt: not expected, but never the process's problem.
      const e = tswsError('TSWS_ERR_CLIENT_UNREACHABLE', { ...this.#settings.at, reason: describeError(err) }, err);
      this.#lastError = e;
      this.#runner.run(this.#host.where.clientConnectionError, this.#callbacks.clientConnectionError, this, e);
      this.#next();
    }
  }

  #finish(): void {
    this.#retries?.cancel();
    this.#state = 'closed';
    this.#final = true;
    if (this.#done) return;
    this.#done = true;
    this.#finished();
  }

  /** Forgets the current attempt and what lives with its socket; returns it. */
  #detach(): ClientAttempt | undefined {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    this.#timers?.cancelAll();
    this.#runner.want = false;
    this.#choked = false;
    this.#pendingClose = undefined;
    this.#receive.drop();
    return attempt;
  }

  /** close() and reconnect(): the state decides what closing means; #final is already set as wanted. */
  #end(code: number, reason: string): void {
    switch (this.#state) {
      case 'open':
        if (this.#pendingClose) return;
        // Inside a callback, close after it returns: clientClosed must not run in the middle of the plugin's own callback.
        this.#pendingClose = { code, reason };
        if (this.#runner.depth === 0) this.#finishClose();
        return;
      case 'connecting':
        this.#detach()?.abandon(code, reason);
        return this.#final ? this.#finish() : this.#next();
      case 'waiting':
        if (this.#final) this.#finish();
        return;
      case 'closing':
      case 'closed':
        return;
      default: {
        const never: never = this.#state;
        throw new Error(`unknown client state ${String(never)}`);
      }
    }
  }

  #finishClose(): void {
    const pending = this.#pendingClose;
    const attempt = this.#attempt;
    if (!pending || this.#state !== 'open' || this.#runner.depth > 0 || !attempt) return;
    this.#state = 'closing';
    // The plugin is done with this socket: what waited is not delivered (the attempt reads again for the server's close).
    this.#receive.drop();
    // 'ended' follows once the server answers: #ended runs clientClosed.
    attempt.close(pending.code, pending.reason);
  }

  #checkClose(code: number, reason: string): void {
    const err = checkClientCloseArgs(code, reason);
    if (err) throw tswsError('TSWS_ERR_BAD_CLOSE_CODE', { protocol: this.#host.protocol, code: String(code), reason: err });
  }

  // ---- writables ---------------------------------------------------------

  /** For the scheduler: runs up to `budget` clientWritable callbacks while the socket is under the threshold. */
  serviceWritables(budget: number): number {
    if (this.#state !== 'open' || !this.#attempt) return 0;
    const ran = this.#runner.service(budget, this.#host.where.clientWritable, this.#callbacks.clientWritable, true);
    if (this.#pendingClose) this.#finishClose();
    else if (this.#runner.want && !this.#choked && this.#state === 'open') this.#host.scheduler.enqueue(this);
    return ran;
  }

  /** Before each writable: open, not closing, and not over WRITABLE_THRESHOLD (else choked until a send callback drains it). */
  #mayWrite(): boolean {
    const attempt = this.#attempt;
    if (this.#state !== 'open' || this.#pendingClose || !attempt) return false;
    if (attempt.bufferedAmount > WRITABLE_THRESHOLD) {
      this.#choked = true;
      return false;
    }
    return true;
  }

  /**
   * A frame left the socket's buffer: the drain, when it brings a choked
   * socket under the threshold. `ws` has no 'drain' event and its socket is
   * private, but Node runs each write's callback once the frame has left the
   * socket's buffer: while choked, the first that finds bufferedAmount under
   * the threshold is the drain. Nothing polls; an idle connection costs nothing.
   */
  #sent(): void {
    if (!this.#choked || this.#state !== 'open' || !this.#attempt || this.#attempt.bufferedAmount > WRITABLE_THRESHOLD) return;
    this.#choked = false;
    this.#inEvent = true;
    this.#afterEvent();
  }

  /** End of one of our events: close if asked, else serve our own writables now. */
  #afterEvent(): void {
    this.#inEvent = false;
    if (this.#pendingClose) this.#finishClose();
    else if (this.#runner.want && !this.#choked && this.#state === 'open') {
      // Served here, so a queue slot it may hold goes stale.
      this.queued = false;
      this.serviceWritables(this.#host.scheduler.perTargetBudget);
    }
  }

  // ---- plugin callbacks --------------------------------------------------

  /**
   * A callback threw (or its promise rejected), counted and logged by the
   * runner already: this client ends for good (1011 when open). Retrying
   * would run the same bug again; the other connections, served or client,
   * go on.
   */
  #callbackFailed(e: TswsError): void {
    this.#final = true;
    // The watchdog unwound `ws`'s own frames too (clientReceive runs inside its parser, which then
    // never reads again): no closing handshake could finish, so the socket is cut (clientClosed, 1006).
    if (e.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED' && this.#state === 'open' && this.#attempt) return this.#attempt.cut('interrupted by the watchdog');
    this.#end(e.closeCode ?? 1011, 'internal error');
  }

  #ownedTimers(): OwnedTimers {
    this.#timers ??= new OwnedTimers((fn) => {
      if (this.#state !== 'open') return;
      this.#runner.run(this.#host.where.timer, fn);
      if (this.#pendingClose) this.#finishClose();
      this.#host.scheduler.flush();
    });
    return this.#timers;
  }
}
