/**
 * @module Test plugin (apiVersion 2), written as a plugin author would, with no type arguments and no
 * casts: a message board per vhost that websocket clients post to and hear every post on, that
 * answers HTTP under a callback mount, and that sends every post to another tsws through a client
 * connection, counting the echoes. test/plugin-api-v2.test.ts runs it; its types are held by
 * test/plugin-api-v2.test-d.ts. Each protocol is a maker of its own, as a larger plugin keeps them
 * in files of their own.
 */
import { definePlugin, type DefineProtocol, type HttpEvents, type HttpTxn } from 'tsws/plugin';

const options = {
  upstream: { type: 'string', doc: 'A websocket URL serving the "echo" protocol: every post goes there.' },
} as const;

/** The plugin's state on a vhost, shared by its two protocols and kept across reloads. */
export class Board {
  readonly posts: string[] = [];
  /** Posts waiting for the upstream link's next writable. */
  readonly outbound: string[] = [];
  /** Posts the upstream echoed back. */
  echoed = 0;
  /** Tells the board's websocket clients and the upstream link; the newest configuration's board protocol sets it. */
  announce: (text: string) => void = () => undefined;

  post(text: string): void {
    this.posts.push(text);
    this.announce(text);
  }
}

/** The websocket side: a callback table, each connection's state apart. */
export const boardProtocol = (protocol: DefineProtocol<Board>) =>
  protocol({
    name: 'board',
    options,
    init(vhost, opts) {
      const board = vhost.plugin;
      const upstream = vhost.connect({
        url: opts.upstream ?? '',
        protocol: 'echo',
        reconnect: { firstMs: 50, maxMs: 1000 },
        session: board,
        callbacks: {
          clientEstablished(link) {
            if (link.session.outbound.length > 0) link.requestWritable();
          },
          clientWritable(link) {
            const next = link.session.outbound.shift();
            if (next !== undefined) link.write(next);
            if (link.session.outbound.length > 0) link.requestWritable();
          },
          clientReceive(link) {
            link.session.echoed++;
          },
        },
      });
      board.announce = (text) => {
        vhost.publish('posts', text);
        board.outbound.push(text);
        upstream.requestWritable();
      };
      return { upstream };
    },
    websocket: {
      filter: (req) => (req.queryParam('name') === undefined ? { refuse: 400, reason: 'say ?name=' } : 'accept'),
      session: (_vhost, req) => ({ name: req.queryParam('name') ?? '', posted: 0 }),
      established(conn) {
        conn.subscribe('posts');
      },
      receive(conn, data) {
        conn.session.posted++;
        conn.vhost.plugin.post(`${conn.session.name}: ${data.toString()}`);
      },
      writable(conn) {
        const next = conn.nextPublished();
        if (next) conn.write(next.data, false);
      },
    },
  });

/** One HTTP request as an object: GET lists the posts, POST adds one. */
class BoardRequest implements HttpEvents {
  readonly #txn: HttpTxn;
  readonly #board: Board;
  readonly #body: Buffer[] = [];
  #answer: { readonly status: number; readonly json: string } | undefined;
  #headSent = false;

  constructor(txn: HttpTxn, board: Board) {
    this.#txn = txn;
    this.#board = board;
  }

  http(): void {
    const { method } = this.#txn.request;
    if (method === 'GET') this.#reply(200, { posts: this.#board.posts, echoed: this.#board.echoed });
    else if (method !== 'POST') this.#reply(405, { error: 'GET or POST' });
  }

  httpBody(chunk: Buffer): void {
    this.#body.push(chunk);
  }

  httpBodyCompletion(): void {
    if (this.#answer) return;
    const text = Buffer.concat(this.#body).toString();
    this.#board.post(`http: ${text}`);
    this.#reply(201, { posted: text });
  }

  /** The headers in one writable, the body in the next. */
  httpWritable(): void {
    const answer = this.#answer;
    if (!answer) return;
    if (this.#headSent) {
      this.#txn.end(answer.json);
      return;
    }
    this.#headSent = true;
    this.#txn.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(answer.json)) });
    this.#txn.requestWritable();
  }

  #reply(status: number, body: unknown): void {
    this.#answer = { status, json: JSON.stringify(body) };
    this.#txn.requestWritable();
  }
}

/** The HTTP side: one object per transaction, a gate in front. */
export const boardHttpProtocol = (protocol: DefineProtocol<Board>) =>
  protocol({
    name: 'board-http',
    http: {
      filter: (req) => (req.headers['x-board-key'] === 'wrong' ? { refuse: 403, reason: 'not your board' } : 'accept'),
      transaction: (txn) => new BoardRequest(txn, txn.vhost.plugin),
    },
  });

export default definePlugin({
  apiVersion: 2,
  name: 'board',
  // One board per vhost; a reload's configuration takes over the last one's.
  init: (_vhost, previous): Board => previous ?? new Board(),
  protocols: (protocol) => [boardProtocol(protocol), boardHttpProtocol(protocol)],
});
