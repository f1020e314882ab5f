/** @module The request snapshot handed to plugins, copied out of the transport's stack-allocated request. */
import type { Authenticated, PeerRequest } from '../plugin/api.ts';
import type { HttpReq } from '../transport/types.ts';
import { forEachPacked, packHeaders } from './packed-headers.ts';

/**
 * A websocket keeps its snapshot for its whole life, and most plugins never
 * read the headers after the upgrade. So `from()` keeps them as one packed
 * string (packed-headers.ts) and builds the object on first read: one string
 * per connection instead of two per header plus a dictionary.
 */
export class RequestSnapshot implements PeerRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly peer: string;
  /** Set once, by the upgrade or the HTTP gate, from a filter that accepted with `auth`; read-only to plugins. */
  auth: Authenticated | undefined = undefined;
  /** Packed (a string) until `headers` is first read, then the object: one field, 8 bytes a connection. */
  #headers: Readonly<Record<string, string>> | string;
  #params: URLSearchParams | undefined;

  /** `headers` as an object, or packed by `from()`. */
  constructor(method: string, path: string, query: string, headers: Record<string, string> | string, peer: string) {
    this.method = method;
    this.path = path;
    this.query = query;
    this.#headers = headers;
    this.peer = peer;
  }

  /** Must be called inside the transport callback that received `req`. */
  static from(req: HttpReq, peer: string): RequestSnapshot {
    const parts: string[] = [];
    req.forEach((k, v) => {
      parts.push(k, v);
    });
    const method = req.getCaseSensitiveMethod();
    // The transport makes a new string each time; the common one is shared instead of kept per connection.
    return new RequestSnapshot(method === 'GET' ? 'GET' : method, req.getUrl(), req.getQuery() ?? '', packHeaders(parts), peer);
  }

  get headers(): Readonly<Record<string, string>> {
    if (typeof this.#headers === 'string') {
      const headers: Record<string, string> = {};
      forEachPacked(this.#headers, (k, v) => {
        // Repeated headers are joined as HTTP allows (RFC 9110 5.3).
        headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      });
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** One header (lower-case name) without building the headers object; repeated ones joined as in `headers`. */
  header(name: string): string | undefined {
    if (typeof this.#headers !== 'string') return this.#headers[name];
    let found: string | undefined;
    forEachPacked(this.#headers, (k, v) => {
      if (k === name) found = found === undefined ? v : `${found}, ${v}`;
    });
    return found;
  }

  queryParam(name: string): string | undefined {
    this.#params ??= new URLSearchParams(this.query);
    return this.#params.get(name) ?? undefined;
  }
}
