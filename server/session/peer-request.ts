/** @module The request snapshot handed to plugins, copied out of the transport's stack-allocated request. */
import type { Authenticated, PeerRequest } from '../plugin/api.ts';
import type { HttpReq } from '../transport/types.ts';

/** Between names and values of packed headers: neither can contain a line feed (it ends a header line). */
const SEP = '\n';

/**
 * A websocket keeps its snapshot for its whole life, and most plugins never
 * read the headers after the upgrade. So `from()` keeps them as one flat
 * string ("name\nvalue\n...") and builds the object on first read: one string
 * per connection instead of two per header plus a dictionary (about 450 bytes
 * less per idle connection).
 */
export class RequestSnapshot implements PeerRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly peer: string;
  /** Set once, by the upgrade or the HTTP gate, from a filter that accepted with `auth`; read-only to plugins. */
  auth: Authenticated | undefined = undefined;
  #packed: string | undefined;
  #headers: Readonly<Record<string, string>> | undefined;
  #params: URLSearchParams | undefined;

  /** `headers` as an object, or packed by `from()`. */
  constructor(method: string, path: string, query: string, headers: Record<string, string> | string, peer: string) {
    this.method = method;
    this.path = path;
    this.query = query;
    if (typeof headers === 'string') this.#packed = headers;
    else this.#headers = headers;
    this.peer = peer;
  }

  /** Must be called inside the transport callback that received `req`. */
  static from(req: HttpReq, peer: string): RequestSnapshot {
    const parts: string[] = [];
    req.forEach((k, v) => {
      parts.push(k, v);
    });
    // join() yields one flat string; the parts become garbage at once.
    const method = req.getCaseSensitiveMethod();
    // The transport makes a new string each time; the common one is shared instead of kept per connection.
    return new RequestSnapshot(method === 'GET' ? 'GET' : method, req.getUrl(), req.getQuery() ?? '', parts.join(SEP), peer);
  }

  get headers(): Readonly<Record<string, string>> {
    if (!this.#headers) {
      const headers: Record<string, string> = {};
      const parts = this.#packed ? this.#packed.split(SEP) : [];
      for (let i = 0; i + 1 < parts.length; i += 2) {
        const k = parts[i] as string;
        const v = parts[i + 1] as string;
        // Repeated headers are joined as HTTP allows (RFC 9110 5.3).
        headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      }
      this.#headers = headers;
      this.#packed = undefined;
    }
    return this.#headers;
  }

  /** One header (lower-case name) without building the headers object; repeated ones joined as in `headers`. */
  header(name: string): string | undefined {
    if (this.#headers || this.#packed === undefined) return this.headers[name];
    let found: string | undefined;
    const parts = this.#packed.split(SEP);
    for (let i = 0; i + 1 < parts.length; i += 2) {
      if (parts[i] === name) found = found === undefined ? parts[i + 1] : `${found}, ${parts[i + 1]}`;
    }
    return found;
  }

  queryParam(name: string): string | undefined {
    this.#params ??= new URLSearchParams(this.query);
    return this.#params.get(name) ?? undefined;
  }
}
