/** @module One HTTP transaction under a callback:// mount: the lws HTTP callbacks, one write per httpWritable. */
import { tswsError, type TswsError } from '../../base/errors.ts';
import { headerProblem } from '../../base/http-header.ts';
import type { HeaderInput, HttpRequestInfo, HttpTxn, Timer, WriteStatus } from '../../plugin/api.ts';
import type { Serviceable } from '../../session/scheduler.ts';
import { OwnedTimers } from '../../session/timers.ts';
import { WritableRunner, type WritableOwner } from '../../session/writables.ts';
import { FAILED, callNow } from '../../session/invoke.ts';
import type { ProtocolHost } from '../../session/protocol-host.ts';
import type { HttpExchange } from '../exchange.ts';
import type { RequestBody } from '../request-body.ts';

type State = 'active' | 'done' | 'aborted';

/** Headers the transport writes itself: a plugin's copies would contradict it. */
const TRANSPORT_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'date', 'server']);
/** Statuses that never carry a body (RFC 9110 6.4.1). */
const bodiless = (status: number) => status < 200 || status === 204 || status === 304;

function headerPairs(h: HeaderInput | undefined): (readonly [string, string])[] {
  if (!h) return [];
  return Array.isArray(h) ? [...(h as readonly (readonly [string, string])[])] : Object.entries(h as Record<string, string>);
}

export class HttpTransaction implements HttpTxn, Serviceable, WritableOwner {
  static #nextId = 1;

  readonly id = HttpTransaction.#nextId++;
  readonly vhost: ProtocolHost;
  /** Set once by start(), before `http`: a session maker (http.transaction) is given the transaction itself. */
  session: unknown = undefined;
  readonly request: HttpRequestInfo;
  queued = false;

  readonly #ex: HttpExchange;
  readonly #body: RequestBody;
  readonly #hasBody: boolean;
  /** Runs the plugin's callbacks (the watchdog's WHERE, failures) and its httpWritables (one write each). */
  readonly #runner: WritableRunner = new WritableRunner(this);
  #state: State = 'active';
  #headSent = false;
  #status = 0;
  /** The plugin's Content-Length, when it gave one: the body goes out with tryEnd. */
  #declared: number | undefined;
  #sent = 0;
  /** What tryEnd could not take yet, resent on onWritable. */
  #pending: Buffer | undefined;
  #choked = false;
  #watchingWritable = false;
  #timers: OwnedTimers | undefined;
  /** A close requested inside the writables' res.cork(): done once the cork returns (see #cut). */
  #closeAfterCork = false;

  constructor(ex: HttpExchange, host: ProtocolHost, request: HttpRequestInfo, body: RequestBody, hasBody: boolean) {
    this.#ex = ex;
    this.vhost = host;
    this.request = request;
    this.#body = body;
    this.#hasBody = hasBody;
    ex.watchAbort(() => this.#aborted());
  }

  get protocol(): string {
    return this.vhost.protocol;
  }

  get isOpen(): boolean {
    return this.#state === 'active';
  }

  get bodyReceived(): number {
    return this.#body.received;
  }

  /** Makes the session, runs `http`, then feeds the body; must be called inside the request callback. */
  start(): void {
    const cb = this.vhost.def.callbacks;
    const where = this.vhost.where;
    const make = this.vhost.def.httpSession;
    if (make) {
      const session = callNow(this.vhost, where.session, make, this, undefined);
      if (session === FAILED) return this.#unmade();
      this.session = session;
    }
    this.#runner.run(where.http, cb.http, this);
    if (this.#state !== 'active') return;
    this.#body.consume({
      chunk: (c) => {
        this.#runner.run(where.httpBody, cb.httpBody, this, c);
        this.#afterEvent();
      },
      end: () => {
        if (this.#hasBody) this.#runner.run(where.httpBodyCompletion, cb.httpBodyCompletion, this);
        this.#afterEvent();
      },
      tooLarge: () => this.#refuse(tswsError('TSWS_ERR_HTTP_BODY_TOO_LARGE', { vhost: this.vhost.vhostName, limit: this.vhost.def.httpBodyLimit })),
    });
    this.#afterEvent();
  }

  // ---- plugin-facing -------------------------------------------------------

  requestWritable(): void {
    if (this.#state !== 'active') return;
    this.#runner.want = true;
    if (!this.#choked) this.vhost.scheduler.enqueue(this);
  }

  writeHead(status: number, headers?: HeaderInput, opts?: { readonly end?: boolean }): WriteStatus {
    this.#runner.claim();
    this.#orderCheck(!this.#headSent, 'the status and headers were already written');
    if (!Number.isInteger(status) || status < 100 || status > 599) this.#orderCheck(false, `${status} is not an HTTP status`);
    const pass: (readonly [string, string])[] = [];
    for (const [k, v] of headerPairs(headers)) {
      // Written byte for byte by the transport: a CR/LF would let whatever the plugin relays (an upstream's,
      // a node's, a client's header) add headers or a whole response.
      const problem = headerProblem(k, String(v));
      if (problem) throw tswsError('TSWS_ERR_HTTP_BAD_HEADER', { protocol: this.protocol, name: k, detail: problem });
      const name = k.toLowerCase();
      if (name === 'content-length') {
        if (!/^\d+$/.test(String(v).trim())) this.#orderCheck(false, `Content-Length "${v}" is not a number`);
        this.#declared = Number(v);
      } else if (!TRANSPORT_HEADERS.has(name)) {
        pass.push([k, String(v)]);
      }
    }
    this.#headSent = true;
    this.#status = status;
    const ex = this.#ex;
    ex.res.cork(() => ex.writeHead(status, pass));
    if (opts?.end) this.#endWithoutBody();
    return 'sent';
  }

  write(chunk: string | Uint8Array): WriteStatus {
    return this.#writeBody(chunk, false);
  }

  end(chunk: string | Uint8Array = ''): WriteStatus {
    return this.#writeBody(chunk, true);
  }

  pauseBody(): void {
    this.#body.pause();
  }

  resumeBody(): void {
    if (this.#state === 'active') this.#body.resume();
  }

  abort(): void {
    this.#cut();
  }

  setTimeout(ms: number, fn: () => void): Timer {
    this.#timers ??= new OwnedTimers((f) => {
      if (this.#state !== 'active') return;
      this.#runner.run(this.vhost.where.timer, f);
      this.vhost.scheduler.flush();
    }, this.vhost.clock);
    return this.#timers.setTimeout(ms, fn);
  }

  // ---- scheduler -----------------------------------------------------------

  serviceWritables(budget: number): number {
    if (this.#state !== 'active') return 0;
    const ran = this.#runner.service(budget, this.vhost.where.httpWritable, this.vhost.def.callbacks.httpWritable, false);
    if (this.#closeAfterCork) {
      this.#closeAfterCork = false;
      // Served inside the request handler, what the cork wrote is only flushed
      // when the handler returns: closing now would drop it. Close a turn later
      // (unless the client went first: an aborted response must not be touched).
      const ex = this.#ex;
      setImmediate(() => {
        if (!ex.aborted) ex.res.close();
      });
    }
    if (this.#runner.want && !this.#choked && this.#state === 'active') this.vhost.scheduler.enqueue(this);
    return ran;
  }

  // ---- for the writable runner (session/writables.ts) ----------------------

  cork(fn: () => void): void {
    this.#ex.res.cork(fn);
  }

  mayWrite(): boolean {
    return this.#state === 'active' && !this.#choked;
  }

  wantsMore(): boolean {
    return false;
  }

  failureFields(): object {
    return { txn: this.id, peer: this.request.peer };
  }

  /** A callback failed (or the watchdog cut it). Once headers are out it is too late for a status: cut rather than send a broken response. */
  callbackFailed(e: TswsError): void {
    if (this.#state !== 'active') return;
    if (this.#headSent) this.#cut();
    else this.#refuse(e, 500);
  }

  // ---- writing -------------------------------------------------------------

  #orderCheck(ok: boolean, detail: string): void {
    if (!ok) throw tswsError('TSWS_ERR_HTTP_WRITE_ORDER', { protocol: this.protocol, detail });
  }

  #writeBody(chunk: string | Uint8Array, final: boolean): WriteStatus {
    this.#runner.claim();
    this.#orderCheck(this.#headSent, 'a body chunk was written before writeHead');
    this.#orderCheck(this.#state === 'active', 'the response already ended');
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The response may end in this call: let the request body go while the response can still be touched.
    if (final || (this.#declared !== undefined && this.#sent + data.length >= this.#declared)) this.#ex.releaseBody();
    if (this.#ex.isHead || bodiless(this.#status)) {
      // No body goes on the wire, but the plugin's bytes still count for Content-Length.
      this.#sent += data.length;
      if (final) this.#endWithoutBody();
      return 'sent';
    }
    const res = this.#ex.res;
    if (this.#declared !== undefined) {
      if (this.#sent + data.length > this.#declared) return this.#lengthMismatch(this.#sent + data.length);
      const before = res.getWriteOffset();
      const [ok, done] = res.tryEnd(data, this.#declared);
      if (done) {
        this.#sent += data.length;
        this.#complete();
        return 'sent';
      }
      if (!ok) {
        const taken = res.getWriteOffset() - before;
        this.#sent += data.length;
        this.#pending = data.subarray(taken);
        this.#choke();
        return 'backpressure';
      }
      this.#sent += data.length;
      if (final) return this.#lengthMismatch(this.#sent);
      return 'sent';
    }
    this.#sent += data.length;
    if (final) {
      res.end(data);
      this.#complete();
      return 'sent';
    }
    if (res.write(data)) return 'sent';
    this.#choke();
    return 'backpressure';
  }

  #endWithoutBody(): void {
    const ex = this.#ex;
    ex.releaseBody();
    if (bodiless(this.#status)) ex.res.endWithoutBody();
    else if (ex.isHead) ex.endWithoutBody(this.#declared ?? this.#sent);
    else if (this.#declared !== undefined && this.#declared !== this.#sent) {
      this.#lengthMismatch(this.#sent);
      return;
    } else ex.res.end();
    this.#complete();
  }

  #lengthMismatch(sent: number): WriteStatus {
    const e = tswsError('TSWS_ERR_HTTP_LENGTH_MISMATCH', { protocol: this.protocol, declared: this.#declared ?? 0, sent });
    this.vhost.log.error({ code: e.code, txn: this.id }, e.message);
    this.#cut();
    return 'dropped';
  }

  /** Backpressure: no httpWritable until uWS.js says the socket drained. */
  #choke(): void {
    this.#choked = true;
    if (this.#watchingWritable) return;
    this.#watchingWritable = true;
    this.#ex.res.onWritable(() => this.#onWritable());
  }

  #onWritable(): boolean {
    if (this.#state !== 'active') return true;
    const pending = this.#pending;
    if (pending && this.#declared !== undefined) {
      const res = this.#ex.res;
      const before = res.getWriteOffset();
      const [ok, done] = res.tryEnd(pending, this.#declared);
      if (done) {
        this.#pending = undefined;
        this.#complete();
        return true;
      }
      if (!ok) {
        this.#pending = pending.subarray(res.getWriteOffset() - before);
        return false;
      }
      this.#pending = undefined;
    }
    this.#choked = false;
    if (this.#runner.want) {
      this.queued = true;
      this.vhost.scheduler.serveNow(this);
    }
    return true;
  }

  // ---- lifecycle -----------------------------------------------------------

  #afterEvent(): void {
    if (this.#state === 'active') this.vhost.scheduler.serveNow(this);
  }

  /** Ends with an error status (nothing was sent yet) and tells the plugin it is over. */
  #refuse(e: TswsError, status = e.httpStatus ?? 500): void {
    if (this.#state !== 'active') return;
    this.#state = 'aborted';
    this.#timers?.cancelAll();
    this.#ex.sendStatus(status, e.detail, [], { unread: this.#body });
    this.#closed('aborted');
  }

  /**
   * Closes the connection mid-response; the plugin hears 'aborted'. Inside
   * res.cork() the close waits until the cork returns: uWS.js fires onAborted
   * synchronously from close() and its cork wrapper then touches the dead
   * response and throws. Outside the cork (a plugin's own callback, or
   * `abort()` from another connection's event) it closes at once: nothing
   * else would ever run the deferred close.
   */
  #cut(): void {
    if (this.#state !== 'active') return;
    this.#state = 'aborted';
    this.#timers?.cancelAll();
    this.#ex.releaseBody();
    if (this.#runner.corked) this.#closeAfterCork = true;
    else this.#ex.res.close();
    this.#closed('aborted');
  }

  #complete(): void {
    if (this.#state !== 'active') return;
    this.#state = 'done';
    this.#timers?.cancelAll();
    this.#ex.finish(this.#status, this.#ex.isHead ? 0 : this.#sent);
    this.#closed('completed');
  }

  /** The session maker threw (counted and logged): 500, and no HTTP callback runs, as none began. */
  #unmade(): void {
    this.#state = 'aborted';
    this.#timers?.cancelAll();
    this.#ex.sendStatus(500, 'The session could not be created.', [], { unread: this.#hasBody ? this.#body : undefined });
  }

  #aborted(): void {
    const wasActive = this.#state === 'active';
    this.#state = 'aborted';
    this.#timers?.cancelAll();
    this.#body.detach();
    if (wasActive) this.#closed('aborted');
  }

  /** httpClosed: the transaction is over already, so a failure is counted and logged, nothing more. */
  #closed(how: 'completed' | 'aborted'): void {
    this.#runner.run(this.vhost.where.httpClosed, this.vhost.def.callbacks.httpClosed, this, how);
  }
}
