/** @module The request snapshot handed to plugins, copied out of the transport's stack-allocated request. */
import type { PeerRequest } from '../plugin/api.ts';
import type { HttpReq } from '../transport/types.ts';

export class RequestSnapshot implements PeerRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly peer: string;
  #params: URLSearchParams | undefined;

  constructor(method: string, path: string, query: string, headers: Record<string, string>, peer: string) {
    this.method = method;
    this.path = path;
    this.query = query;
    this.headers = headers;
    this.peer = peer;
  }

  /** Must be called inside the transport callback that received `req`. */
  static from(req: HttpReq, peer: string): RequestSnapshot {
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      // Repeated headers are joined as HTTP allows (RFC 9110 5.3).
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    });
    return new RequestSnapshot(req.getCaseSensitiveMethod(), req.getUrl(), req.getQuery() ?? '', headers, peer);
  }

  queryParam(name: string): string | undefined {
    this.#params ??= new URLSearchParams(this.query);
    return this.#params.get(name) ?? undefined;
  }
}
