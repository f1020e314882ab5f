/** @module tsws/testing's websocket client: it buffers from the first byte (a server may send in the same packet as the 101), and waits for messages without timing assertions. */
import WebSocket from 'ws';

export interface Received {
  readonly text: string;
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** What a test may pass to the handshake. */
export interface ClientOptions {
  /** Extra request headers (Host, Authorization, Cookie, ...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The Origin header. */
  readonly origin?: string;
  /** wss: the CA that signed the server's certificate, and the SNI name to ask for. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly servername?: string;
}

/**
 * The client socket underneath (the `ws` package's WebSocket), as far as
 * tests reach for it. Declared here so that tsws/testing's types need no
 * @types/ws in your project.
 */
export interface ClientSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes queued on the client's side, not yet taken by the socket. */
  readonly bufferedAmount: number;
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** A frame with the type given, whatever the data (TestClient.send picks it from the data). */
  send(data: string | Buffer, options: { readonly binary: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** Stop (and restart) reading: play a slow reader. */
  pause(): void;
  resume(): void;
}

export class TestClient {
  readonly ws: ClientSocket;
  readonly received: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  readonly #ws: WebSocket;
  #read = 0;
  #wake: (() => void) | undefined;

  constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
    const ws = new WebSocket(url, protocols, options as WebSocket.ClientOptions | undefined);
    this.ws = this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.received.push({ text: data.toString(), data, isBinary });
      this.#wake?.();
    });
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        // With this listener ws leaves the refused handshake to us: abort it, or 'close' never comes.
        ws.terminate();
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#wake?.();
      });
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string, protocols?: string | string[], options?: ClientOptions): Promise<TestClient> {
    const c = new TestClient(url, protocols, options);
    await c.opened;
    return c;
  }

  /** The next message not yet taken; rejects if the socket closes first or nothing comes within `ms`. */
  async next(ms = 10_000): Promise<Received> {
    const deadline = Date.now() + ms;
    while (this.#read >= this.received.length) {
      if (this.#ws.readyState === WebSocket.CLOSED) throw new Error('closed while waiting for a message');
      if (Date.now() > deadline) throw new Error(`no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.received[this.#read++] as Received;
  }

  async nextText(ms?: number): Promise<string> {
    return (await this.next(ms)).text;
  }

  /** Waits until a message satisfies `pred`, taking every message before it. */
  async until(pred: (m: Received) => boolean, ms = 10_000): Promise<Received> {
    for (;;) {
      const m = await this.next(ms);
      if (pred(m)) return m;
    }
  }

  send(data: string | Buffer): void {
    this.#ws.send(data);
  }

  close(code?: number): Promise<{ code: number; reason: string }> {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code);
    return this.closed;
  }
}

/** Resolves with the HTTP status of a refused upgrade. */
export function upgradeStatus(url: string, protocols?: string | string[], headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Polls `cond` until it holds (a liveness bound, not a timing assertion). */
export async function eventually(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
