/** @module tsws/testing's HTTP client: one request per connection (no pooled socket outlives a test), the whole answer read. */
import http from 'node:http';
import https from 'node:https';

export interface TestRequest {
  /** Default: GET, or POST when there is a body. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** https: the CA that signed the server's certificate (a test's self-signed one). */
  readonly ca?: string | Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  /** Header names are lower case. */
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as UTF-8. */
  readonly text: string;
}

export function request(url: string, init: TestRequest = {}): Promise<HttpAnswer> {
  const client = url.startsWith('https:') ? https : http;
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method, headers: init.headers, agent: false, ...(init.ca ? { ca: init.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
