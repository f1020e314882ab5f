/** @module One HTTP request forwarded through a tunnel: its upload and its response, each streamed under a credit window. */
import type { HeaderInput, HttpTxn, Timer } from '../../server/plugin/api.ts';
// One rule with tsws's proxy mounts: the tunnel relays no hop-by-hop header either (http-routes.ts and the agent import them from here).
import { HOP_BY_HOP, connectionListed } from '../../server/plugin/runtime.ts';
import { PendingReply, textReply } from './reply.ts';
import { MAX_CHUNK, encodeData, frameText, slices, type HeaderPairs } from './wire.ts';

export { HOP_BY_HOP, connectionListed };

/** What the tunnel's round robin of uploads takes frames from: a forwarded request's body, a forwarded websocket's messages. */
export interface UploadSource {
  /** Set by the carrier while the source waits in its round robin. */
  queuedForData: boolean;
  readonly hasSendableUpload: boolean;
  /** The next frame the credit allows: JSON text or binary. */
  nextFrame(): string | Buffer | undefined;
}

/** What a stream needs from the tunnel carrying it. */
export interface StreamCarrier {
  /** Body bytes in flight per direction (the welcome's `window`). */
  readonly window: number;
  readonly nodeId: string;
  /** Queues a control frame on the tunnel. */
  push(frame: string): void;
  /** This stream has upload bytes (or its end) the credit allows sending. */
  readyForData(stream: UploadSource): void;
  /** The stream is over: forget its id. */
  dropStream(stream: ForwardStream): void;
  /** The private node broke the protocol: close its tunnel. */
  violation(reason: string): void;
}

/**
 * Flow control, both ways, per stream (so one slow client never stalls the
 * other requests sharing the tunnel):
 *
 * - Upload: body chunks queue here and go out in the tunnel's writables while
 *   fewer than `window` bytes are unacknowledged; the agent sends `credit` as
 *   its target takes them. Past `window` bytes queued here the upload is
 *   paused (txn.pauseBody), so a large body never sits in memory whole.
 * - Response: the agent sends at most `window` unacknowledged bytes; each
 *   chunk is written to the client in its own httpWritable, which waits while
 *   the client's socket is backed up, and credit goes back once it is
 *   written. An agent sending past its window (plus one read's slack) is
 *   breaking the protocol and its tunnel is closed.
 */
export class ForwardStream implements UploadSource {
  readonly id: number;
  readonly txn: HttpTxn<unknown, unknown>;
  /** Set by the carrier while this stream waits in its round-robin of uploads. */
  queuedForData = false;
  readonly #carrier: StreamCarrier;
  readonly #reply = new PendingReply();
  #headTimer: Timer | undefined;
  #finished = false;
  // upload: client → private node
  readonly #up: (Buffer | 'end')[] = [];
  #upQueued = 0;
  #upInFlight = 0;
  #upPaused = false;
  // response: private node → client
  #head: { readonly status: number; readonly headers: HeaderPairs } | undefined;
  #headSent = false;
  readonly #down: Buffer[] = [];
  #downBytes = 0;
  #downEnded = false;
  #owed = 0;

  constructor(id: number, txn: HttpTxn<unknown, unknown>, carrier: StreamCarrier, req: { path: string; headers: HeaderPairs; body: boolean }, headTimeoutMs: number) {
    this.id = id;
    this.txn = txn;
    this.#carrier = carrier;
    carrier.push(frameText({ type: 'req', id, method: txn.request.method, path: req.path, headers: req.headers, body: req.body }));
    this.#headTimer = txn.setTimeout(headTimeoutMs, () => {
      this.fail(504, `node ${carrier.nodeId} did not answer within ${Math.round(headTimeoutMs / 1000)} s`, 'timeout');
    });
  }

  // ---- upload ---------------------------------------------------------------

  upload(chunk: Buffer): void {
    if (this.#finished) return;
    for (const s of slices(chunk)) this.#up.push(s);
    this.#upQueued += chunk.length;
    this.#carrier.readyForData(this);
    if (!this.#upPaused && this.#upQueued > this.#carrier.window) {
      this.#upPaused = true;
      this.txn.pauseBody();
    }
  }

  uploadEnd(): void {
    if (this.#finished) return;
    this.#up.push('end');
    this.#carrier.readyForData(this);
  }

  get hasSendableUpload(): boolean {
    const next = this.#up[0];
    return next !== undefined && (next === 'end' || this.#upInFlight + next.length <= this.#carrier.window);
  }

  /** The next upload frame's content the credit allows: body bytes, or the end. */
  #takeUpload(): Buffer | 'end' | undefined {
    if (!this.hasSendableUpload) return undefined;
    const next = this.#up.shift();
    if (next === undefined || next === 'end') return next;
    this.#upQueued -= next.length;
    this.#upInFlight += next.length;
    if (this.#upPaused && this.#upQueued <= this.#carrier.window / 2) {
      this.#upPaused = false;
      this.txn.resumeBody();
    }
    return next;
  }

  nextFrame(): string | Buffer | undefined {
    const item = this.#takeUpload();
    if (item === undefined) return undefined;
    return item === 'end' ? frameText({ type: 'end', id: this.id }) : encodeData(this.id, item);
  }

  credit(bytes: number): void {
    this.#upInFlight = Math.max(0, this.#upInFlight - bytes);
    if (this.hasSendableUpload) this.#carrier.readyForData(this);
  }

  // ---- response -------------------------------------------------------------

  head(status: number, headers: HeaderPairs): void {
    if (this.#head || this.#reply.isSet) return this.#carrier.violation(`a second answer for stream ${this.id}`);
    this.#headTimer?.cancel();
    this.#head = { status, headers };
    this.txn.requestWritable();
  }

  data(payload: Buffer): void {
    if (!this.#head || this.#downEnded) return this.#carrier.violation(`body bytes for stream ${this.id} outside its response`);
    this.#down.push(payload);
    this.#downBytes += payload.length;
    if (this.#downBytes > this.#carrier.window + 2 * MAX_CHUNK) return this.#carrier.violation(`stream ${this.id} went past its credit window`);
    this.txn.requestWritable();
  }

  end(): void {
    if (!this.#head) return this.#carrier.violation(`stream ${this.id} ended before its response head`);
    this.#downEnded = true;
    this.txn.requestWritable();
  }

  /**
   * No response after all (the node failed, timed out or went away): an error
   * status, or a cut if the headers went out. The stream is forgotten at once,
   * so a late answer from the node finds no stream and is ignored; with a
   * `cancel` reason the node is told to stop.
   */
  fail(status: number, message: string, cancel?: string): void {
    if (this.#finished) return;
    if (cancel !== undefined) this.#carrier.push(frameText({ type: 'cancel', id: this.id, reason: cancel }));
    this.#finish();
    if (!this.txn.isOpen) return;
    if (this.#headSent) this.txn.abort();
    else this.#reply.set(this.txn, textReply(status, message));
  }

  /** httpWritable: at most one write. */
  writable(): void {
    const txn = this.txn;
    if (!txn.isOpen || this.#reply.writable(txn)) return;
    if (!this.#head || this.#finished) return;
    if (!this.#headSent) {
      this.#headSent = true;
      txn.writeHead(this.#head.status, responseHeaders(this.#head.headers));
    } else {
      const chunk = this.#down.shift();
      if (chunk) {
        this.#downBytes -= chunk.length;
        txn.write(chunk);
        this.#grant(chunk.length);
      } else if (this.#downEnded) {
        txn.end();
        return;
      } else return;
    }
    // A Content-Length the body reached ends the response by itself.
    if (txn.isOpen && (this.#down.length > 0 || this.#downEnded)) txn.requestWritable();
  }

  /** Credit goes back in batches of a quarter window, or at once when the client has caught up. */
  #grant(bytes: number): void {
    this.#owed += bytes;
    if (this.#downEnded || (this.#owed < this.#carrier.window / 4 && this.#down.length > 0)) return;
    this.#carrier.push(frameText({ type: 'credit', id: this.id, bytes: this.#owed }));
    this.#owed = 0;
  }

  // ---- endings ----------------------------------------------------------------

  /** httpClosed: the response completed, or the client went away (the node is told to stop). */
  closed(how: 'completed' | 'aborted'): void {
    if (this.#finished) return;
    if (how === 'aborted') this.#carrier.push(frameText({ type: 'cancel', id: this.id, reason: 'client gone' }));
    this.#finish();
  }

  /** The tunnel closed under this request. */
  tunnelGone(): void {
    this.fail(502, `the tunnel to node ${this.#carrier.nodeId} closed`);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#headTimer?.cancel();
    this.#up.length = 0;
    this.#down.length = 0;
    this.#carrier.dropStream(this);
  }
}

function responseHeaders(pairs: HeaderPairs): HeaderInput {
  const listed = connectionListed(pairs.filter(([k]) => k.toLowerCase() === 'connection').map(([, v]) => v).join(','));
  return pairs.filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase()) && !listed.has(k.toLowerCase()));
}
