/** @module Streams a response body from a pausable source (a CGI script's stdout, an upstream response) with backpressure. */
import type { HeaderList, HttpExchange } from './exchange.ts';

/** What produces the body: paused while the client cannot take more, resumed once it drained. */
export interface FlowSource {
  pause(): void;
  resume(): void;
}

/**
 * Two modes, because uWS.js cannot mix them: with a known length every chunk
 * goes through tryEnd(chunk, total), which writes Content-Length and may take
 * only part of a chunk; with an unknown length write() sends chunked
 * encoding and always buffers the whole chunk. In both, a full socket pauses
 * the source and onWritable resumes it, so a slow client holds the producer
 * back instead of making the body pile up in memory.
 *
 * The head is not written at once but with the first chunk (or the end), so a
 * small response whose body arrives in the same read as its head (most
 * proxied and CGI responses) leaves in one cork, one write() to the client.
 * A head whose body is not there by the end of this tick goes out alone (a
 * microtask), so a client waiting on a slow body (a long poll, an event
 * stream) still gets the status at once. onWritable is asked for only once a
 * write is refused: most responses never need it.
 */
export class ResponseStream {
  readonly #ex: HttpExchange;
  readonly #status: number;
  readonly #total: number | undefined;
  readonly #source: FlowSource;
  /** Written with the first chunk, the end or the microtask, whichever comes first; dropped once sent. */
  #headers: HeaderList | undefined;
  #watchingWritable = false;
  #sent = 0;
  /** Known length: the part of a chunk tryEnd did not take yet. */
  #pending: Buffer | undefined;
  #paused = false;
  #sourceEnded = false;
  #closed = false;

  constructor(ex: HttpExchange, status: number, headers: HeaderList, total: number | undefined, source: FlowSource) {
    this.#ex = ex;
    this.#status = status;
    this.#total = total;
    this.#source = source;
    this.#headers = headers;
    queueMicrotask(() => this.#flushHead());
  }

  /** The head alone, when no body came with it. */
  #flushHead(): void {
    if (this.#headers === undefined || this.finished) return;
    this.#ex.res.cork(() => this.#writeHead());
  }

  /** Inside a cork. */
  #writeHead(): void {
    const headers = this.#headers;
    if (headers === undefined) return;
    this.#headers = undefined;
    this.#ex.writeHead(this.#status, headers);
  }

  /** Body bytes handed to the transport so far. */
  get sent(): number {
    return this.#sent;
  }

  /** True once the response is complete or was cut; the source can stop. */
  get finished(): boolean {
    return this.#closed || this.#ex.done || this.#ex.aborted;
  }

  /** Called outside the request callback: every write is corked. */
  write(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    this.#ex.res.cork(() => {
      this.#writeHead();
      if (this.#total === undefined) this.#writeChunked(chunk);
      else this.#tryEnd(chunk);
    });
  }

  /** The source has no more data. */
  end(): void {
    this.#sourceEnded = true;
    if (this.finished) return;
    if (this.#total === undefined || this.#total === 0) {
      this.#ex.releaseBody();
      this.#ex.res.cork(() => {
        this.#writeHead();
        this.#ex.res.end();
      });
      this.#ex.finish(this.#status, this.#sent);
      return;
    }
    // A source that ends short of its declared length: cut the connection
    // rather than leave the client waiting for bytes that will never come.
    if (this.#pending === undefined && this.#sent < this.#total) this.cut();
  }

  /** Ends the response abnormally (the source failed mid-body): the client sees the connection close. */
  cut(): void {
    if (this.finished) return;
    this.#closed = true;
    this.#ex.releaseBody();
    this.#ex.res.close();
    this.#ex.finish(this.#status, this.#sent);
  }

  #writeChunked(chunk: Buffer): void {
    const ok = this.#ex.res.write(chunk);
    this.#sent += chunk.length;
    if (!ok) this.#pause();
  }

  #tryEnd(chunk: Buffer): void {
    const total = this.#total as number;
    // Never send past the declared length.
    const room = total - this.#sent - (this.#pending?.length ?? 0);
    if (room <= 0) return;
    const data = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (this.#pending) {
      this.#pending = Buffer.concat([this.#pending, data]);
      return;
    }
    this.#offer(data);
  }

  /** Hands `data` to tryEnd; keeps what it did not take and pauses the source. */
  #offer(data: Buffer): void {
    const res = this.#ex.res;
    const before = res.getWriteOffset();
    // These may be the last bytes: the response can end inside tryEnd.
    if (this.#sent + data.length >= (this.#total as number)) this.#ex.releaseBody();
    const [ok, done] = res.tryEnd(data, this.#total as number);
    if (done) {
      this.#sent = this.#total as number;
      this.#pending = undefined;
      this.#ex.finish(this.#status, this.#sent);
      return;
    }
    if (ok) {
      this.#sent += data.length;
      this.#pending = undefined;
      return;
    }
    const taken = res.getWriteOffset() - before;
    this.#sent += taken;
    this.#pending = data.subarray(taken);
    this.#pause();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // Registered only now: uWS.js calls it once the refused bytes drained.
    if (!this.#watchingWritable) {
      this.#watchingWritable = true;
      this.#ex.res.onWritable(() => this.#onWritable());
    }
    this.#source.pause();
  }

  #onWritable(): boolean {
    if (this.finished) return true;
    if (this.#pending) {
      const pending = this.#pending;
      this.#ex.res.cork(() => this.#offer(pending));
      if (this.#pending) return false;
      if (this.#sourceEnded && !this.finished) this.cut();
    }
    if (this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
    return true;
  }
}

/** A HEAD request: the status and headers the GET would have had, Content-Length when it is known, no body. */
export function sendHead(ex: HttpExchange, status: number, headers: HeaderList, total: number | undefined): void {
  if (ex.aborted || ex.done) return;
  ex.releaseBody();
  ex.res.cork(() => {
    ex.writeHead(status, headers);
    ex.endWithoutBody(total);
  });
  ex.finish(status, 0);
}
