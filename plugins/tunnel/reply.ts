/** @module A small complete HTTP answer (JSON or text) written as the seed does: headers in one writable, the body in the next. */
import type { HttpTxn } from '../../server/plugin/api.ts';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export const jsonReply = (status: number, value: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json',
  ...(headers ? { headers } : {}),
});

export const textReply = (status: number, text: string, headers?: Record<string, string>): Reply => ({
  status,
  body: `${text}\n`,
  contentType: 'text/plain; charset=utf-8',
  ...(headers ? { headers } : {}),
});

/** An answer waiting for its writables. `set` once; `writable` writes its next part and says whether it wrote. */
export class PendingReply {
  #reply: Reply | undefined;
  #headSent = false;

  get isSet(): boolean {
    return this.#reply !== undefined;
  }

  set(txn: HttpTxn<unknown, unknown>, reply: Reply): void {
    if (this.#reply) return;
    this.#reply = reply;
    txn.requestWritable();
  }

  writable(txn: HttpTxn<unknown, unknown>): boolean {
    const r = this.#reply;
    if (!r || !txn.isOpen) return false;
    if (!this.#headSent) {
      this.#headSent = true;
      txn.writeHead(r.status, { ...r.headers, 'content-type': r.contentType, 'content-length': String(Buffer.byteLength(r.body)) });
      txn.requestWritable();
    } else {
      txn.end(r.body);
    }
    return true;
  }
}
