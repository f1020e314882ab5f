/** @module A protocol kit's HTTP exchange: the response as far as the plugin wrote it, a client that can stop reading or leave. */
import type { FakeResponse } from '../transport/fake/fake-transport.ts';
import { statusOf, type ClientSite } from './kit-client.ts';

export interface KitRequestInit {
  /** Default GET, or POST with a body. */
  readonly method?: string;
  /** Default "/". */
  readonly path?: string;
  /** The query string without "?", or its parameters. */
  readonly query?: string | Readonly<Record<string, string>>;
  /** Header names in any case. Content-Length is added for a body unless you give it (or Transfer-Encoding). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole request body, delivered at once after the request line and headers. */
  readonly body?: string | Uint8Array;
  /** The client's address (default 127.0.0.1). */
  readonly peer?: string;
}

/**
 * The answer to one request, live: a response the plugin writes in later
 * writables (after an asynchronous HTTP filter, a timer, a publish) fills in
 * as they run.
 */
export class KitResponse {
  readonly #res: FakeResponse;
  readonly #site: ClientSite;
  /** While held: how many body chunks the client had read when it stopped reading. */
  #heldAt: number | undefined;

  constructor(res: FakeResponse, site: ClientSite) {
    this.#res = res;
    this.#site = site;
  }

  /** Undefined until the status line is written. */
  get status(): number | undefined {
    return statusOf(this.#res.status);
  }

  /** Header names in lower case; a header written twice has its values joined with ", ". */
  get headers(): Readonly<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.#res.headers) {
      const name = k.toLowerCase();
      out[name] = out[name] === undefined ? v : `${out[name]}, ${v}`;
    }
    return out;
  }

  /** The body as far as the client has read it. */
  get body(): Buffer {
    const chunks = this.#res.chunks;
    return Buffer.concat(chunks.slice(0, this.#heldAt ?? chunks.length));
  }

  get text(): string {
    return this.body.toString();
  }

  /** The response is complete. */
  get ended(): boolean {
    return this.#res.ended && !this.#res.aborted;
  }

  /** The connection closed before the response was complete (the server cut it, or abort() here). */
  get aborted(): boolean {
    return this.#res.aborted;
  }

  /** Stop reading: from now on writes report 'backpressure', wait in the server's buffer, and httpWritable waits. */
  hold(): void {
    if (this.#heldAt !== undefined) return;
    this.#heldAt = this.#res.chunks.length;
    this.#res.hold();
  }

  /** Read everything buffered: the transport's writable event, after which the plugin's httpWritable resumes. */
  release(): void {
    if (this.#heldAt === undefined) return;
    this.#heldAt = undefined;
    this.#res.release();
    this.#site.flush();
  }

  /** The client goes away before the response ended: the plugin's httpClosed hears 'aborted'. */
  abort(): void {
    this.#res.abort();
    this.#site.flush();
  }
}
