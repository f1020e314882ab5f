/**
 * @module The WebSocket tsws/client needs, made of a framework client connection (standaloneClients): so
 * tsws-chat runs on Node 20 (no global WebSocket) without importing ws, one write per clientWritable.
 */
import type { StandaloneClients, StandaloneConn } from '../../../server/session/client/standalone.ts';
import type { WebSocketConstructor, WebSocketLike } from '../../../server/client-lib/index.ts';

const [CONNECTING, OPEN, CLOSING, CLOSED] = [0, 1, 2, 3] as const;

/**
 * A constructor for `connect(url, { WebSocket })`. Each socket is one
 * connection attempt (the framework's reconnect is off: tsws/client reconnects,
 * resubscribes and reports gaps itself). A failed attempt closes with 1006 and
 * the system's words (`connect ECONNREFUSED ...`) as the reason.
 */
export function socketsOver(connect: StandaloneClients['connect'], timeoutMs = 10_000): WebSocketConstructor {
  return class ClientSocket implements WebSocketLike {
    readyState: number = CONNECTING;
    binaryType = 'arraybuffer';
    onopen: WebSocketLike['onopen'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    readonly #out: { data: string | Uint8Array; binary: boolean }[] = [];
    #closeWith: { code: number; reason: string } | undefined;
    readonly #conn: StandaloneConn;

    constructor(url: string, protocols?: string | string[]) {
      this.#conn = connect({
        url,
        ...(protocols !== undefined ? { protocol: protocols } : {}),
        timeoutMs,
        reconnect: false,
        callbacks: {
          clientEstablished: () => {
            this.readyState = OPEN;
            this.onopen?.({});
            if (this.#out.length > 0) this.#conn.requestWritable();
          },
          clientReceive: (_conn, data, isBinary) => {
            const copy = isBinary ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data.toString('utf8');
            this.onmessage?.({ data: copy });
          },
          clientWritable: (conn) => {
            const next = this.#out.shift();
            if (next !== undefined) conn.write(next.data, next.binary);
            if (this.#out.length > 0) conn.requestWritable();
            // After the callback returns, so the close frame follows what was sent before it.
            else if (this.#closeWith) conn.close(this.#closeWith.code, this.#closeWith.reason);
          },
          clientConnectionError: (_conn, err) => {
            const why = err.cause instanceof Error ? err.cause.message : err.detail;
            this.#ended(1006, why);
          },
          clientClosed: (_conn, code, reason) => this.#ended(code, reason),
        },
      });
    }

    send(data: string | ArrayBuffer | Uint8Array): void {
      if (this.readyState !== OPEN) return;
      this.#out.push(typeof data === 'string' ? { data, binary: false } : { data: data instanceof Uint8Array ? data : new Uint8Array(data), binary: true });
      this.#conn.requestWritable();
    }

    close(code = 1000, reason = ''): void {
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      if (this.readyState === CONNECTING) {
        this.readyState = CLOSED;
        this.#conn.close();
        return;
      }
      this.readyState = CLOSING;
      this.#closeWith = { code, reason };
      this.#conn.requestWritable();
    }

    #ended(code: number, reason: string): void {
      if (this.readyState === CLOSED && this.onclose === null) return;
      this.readyState = CLOSED;
      this.onclose?.({ code, reason });
    }
  };
}
