/** @module apiVersion 2's connection and transaction objects (the methods are the callbacks), and the two gates saying 'accept' with one verdict. */
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type Conn, type HttpTxn } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';

const kits: ProtocolKit[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

/** A connection as a class: what it hears, in order, and an echo of each message. */
class Echo {
  readonly heard: string[] = [];
  readonly #conn: Conn;
  readonly #out: string[] = [];
  constructor(conn: Conn) {
    this.#conn = conn;
  }
  established(): void {
    this.heard.push('established');
  }
  receive(data: Buffer, isBinary: boolean): void {
    this.heard.push(`receive ${data.toString()} ${isBinary}`);
    this.#out.push(data.toString());
    this.#conn.requestWritable();
  }
  writable(): void {
    const next = this.#out.shift();
    if (next !== undefined) this.#conn.write(next);
  }
  closed(code: number): void {
    this.heard.push(`closed ${code}`);
  }
}

/** A transaction as a class: answers its path, after its body if it has one. */
class Answer {
  readonly #txn: HttpTxn;
  #body = '';
  #head = false;
  constructor(txn: HttpTxn) {
    this.#txn = txn;
  }
  http(): void {
    if (this.#txn.request.method === 'GET') this.#txn.requestWritable();
  }
  httpBody(chunk: Buffer): void {
    this.#body += chunk.toString();
  }
  httpBodyCompletion(): void {
    this.#txn.requestWritable();
  }
  httpWritable(): void {
    if (!this.#head) {
      this.#head = true;
      this.#txn.writeHead(200, { 'content-type': 'text/plain' });
      this.#txn.requestWritable();
      return;
    }
    this.#txn.end(`${this.#txn.request.pathInMount} ${this.#body}`);
  }
}

const objects = definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    protocol({
      name: 'objects',
      websocket: {
        filter: (req) => (req.queryParam('who') === 'nobody' ? { refuse: 401, reason: 'who are you?' } : 'accept'),
        connection(conn) {
          if (conn.request.queryParam('who') === 'thrower') throw new Error('no object for you');
          return new Echo(conn);
        },
      },
      http: {
        filter: (req) => (req.headers['x-key'] === 'no' ? { refuse: 429, reason: 'slow down', headers: { 'retry-after': '5' } } : 'accept'),
        transaction: (txn) => new Answer(txn),
      },
    }),
  ],
});

describe('a connection as one object', () => {
  it('gets the callbacks as its methods, and is the connection\'s session', async () => {
    const kit = await testProtocol(objects);
    kits.push(kit);
    const c = kit.connect();
    c.send('one');
    c.send(new Uint8Array([0x74, 0x77, 0x6f]));
    expect(c.texts).toEqual(['one', 'two']);
    const echo = c.conn.session as Echo;
    expect(echo).toBeInstanceOf(Echo);
    c.close(4000, 'bye');
    expect(echo.heard).toEqual(['established', 'receive one false', 'receive two true', 'closed 4000']);
  });

  it('a maker that throws refuses the upgrade with 500, counted and logged with its code', async () => {
    const kit = await testProtocol(objects);
    kits.push(kit);
    const c = kit.connect({ query: { who: 'thrower' } });
    expect(c.status).toBe(500);
    expect(kit.errors.map((e) => [e.code, e.callback])).toEqual([['TSWS_ERR_PLUGIN_CALLBACK_THREW', 'session']]);
  });

  it('a transaction object answers HTTP, its body included', async () => {
    const kit = await testProtocol(objects);
    kits.push(kit);
    const get = kit.request({ path: '/a' });
    expect([get.status, get.text]).toEqual([200, '/a ']);
    const post = kit.request({ path: '/b', body: 'payload' });
    expect([post.status, post.text]).toEqual([200, '/b payload']);
  });
});

describe("both gates say 'accept', and refuse the same way", () => {
  it('the websocket filter refuses with its status and reason', async () => {
    const kit = await testProtocol(objects);
    kits.push(kit);
    const c = kit.connect({ query: { who: 'nobody' } });
    expect(c.refusal).toEqual({ status: 401, body: expect.stringContaining('who are you?') });
  });

  it('the HTTP filter refuses with any error status, its reason and its headers', async () => {
    const kit = await testProtocol(objects);
    kits.push(kit);
    const r = kit.request({ path: '/c', headers: { 'x-key': 'no' } });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.text).toContain('slow down');
  });

  it("version 1's 'allow' is no yes in version 2: a plain-JS plugin saying it is refused with 403", async () => {
    const plain = { apiVersion: 2, protocols: () => [{ name: 'old-word', http: { filter: () => 'allow', http: (txn: HttpTxn) => txn.requestWritable() } }] };
    // Plain JS, as the loader sees it: no types to stop it.
    const kit = await testProtocol(plain as unknown as typeof objects);
    kits.push(kit);
    expect(kit.request({ path: '/' }).status).toBe(403);
  });
});
