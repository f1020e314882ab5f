/** @module A protocol kit's websocket client: the peer of one fake socket, seeing what the plugin wrote in order, holding and releasing its reading. */
import { tswsError } from '../base/errors.ts';
import type { Conn } from '../plugin/api.ts';
import type { FakeResponse } from '../transport/fake/fake-transport.ts';
import type { Received } from './ws-client.ts';

/** How a client's connection ended, and who ended it. */
export interface ClientClosed {
  readonly code: number;
  readonly reason: string;
  /** 'server': the plugin (conn.close), the framework (1011, 1009, 1008...) or the stop (1001); 'client': close() here. */
  readonly by: 'server' | 'client';
}

/** A coded error the server logged (warn and above), with the callback, connection or transaction it names. */
export interface KitError {
  readonly code: string;
  readonly message: string;
  readonly callback?: string;
  /** The connection's id (conn.id), for errors of a websocket connection. */
  readonly conn?: number;
  /** The transaction's id (txn.id), for errors of an HTTP transaction. */
  readonly txn?: number;
}

/** What a client needs of its kit. */
export interface ClientSite {
  /** Serves what the framework queued (the real server would, a turn of the event loop later). */
  flush(): void;
  readonly errors: readonly KitError[];
}

/**
 * One websocket client with no socket under it: every call goes through the
 * fake transport's handlers into the real framework, as uWS.js's events do.
 * What the plugin writes arrives in `received` at once, except while the
 * client holds its reading: then it waits in the server's buffer
 * (`bufferedAmount`), writes report 'backpressure', and past the
 * framework's threshold the plugin's writable stops being called until
 * release().
 */
export class KitClient<V = unknown, S = unknown> {
  /** Numbered from 1 in each kit, for errors. */
  readonly number: number;
  /** The subprotocol asked for ('' for none). */
  readonly protocol: string;
  readonly #res: FakeResponse;
  readonly #site: ClientSite;
  /** While held: how many frames the client had read when it stopped reading. */
  #heldAt: number | undefined;

  constructor(number: number, protocol: string, res: FakeResponse, site: ClientSite) {
    this.number = number;
    this.protocol = protocol;
    this.#res = res;
    this.#site = site;
  }

  /** 101 once upgraded, the refusal's status (400, 403...), undefined while an asynchronous filter decides. */
  get status(): number | undefined {
    return statusOf(this.#res.status);
  }

  /** The answer of a refused upgrade. */
  get refusal(): { readonly status: number; readonly body: string } | undefined {
    const status = this.status;
    return status !== undefined && status !== 101 ? { status, body: this.#res.body.toString() } : undefined;
  }

  get isOpen(): boolean {
    return this.#res.socket?.isOpen ?? false;
  }

  /** The server's side of this connection, as the plugin's callbacks see it (its session, its vhost state). */
  get conn(): Conn<V, S> {
    return this.#socket('look at its connection').session as Conn<V, S>;
  }

  /** What the plugin wrote and this client has read, in order. */
  get received(): readonly Received[] {
    const sent = this.#res.socket?.sent ?? [];
    return sent.slice(0, this.#heldAt ?? sent.length).map((f) => ({ text: f.data.toString(), data: f.data, isBinary: f.isBinary }));
  }

  /** `received` as text. */
  get texts(): string[] {
    return this.received.map((m) => m.text);
  }

  /** Bytes the server has written and this client not read (only while held). */
  get bufferedAmount(): number {
    const s = this.#res.socket;
    return s?.isOpen ? s.getBufferedAmount() : 0;
  }

  get closed(): ClientClosed | undefined {
    const e = this.#res.socket?.ending;
    return e && { code: e.code, reason: e.reason, by: e.by === 'peer' ? 'client' : 'server' };
  }

  /** The coded errors logged for this connection (a second write in one writable, a callback that threw...). */
  get errors(): readonly KitError[] {
    const s = this.#res.socket;
    if (!s) return [];
    const id = (s.session as Conn).id;
    return this.#site.errors.filter((e) => e.conn === id);
  }

  /** One whole message: text for a string, binary for bytes unless told. */
  send(data: string | Uint8Array, isBinary: boolean = typeof data !== 'string'): void {
    this.#open('send').deliver(data, isBinary);
    this.#site.flush();
  }

  /** Stop reading: the server's writes pile up in its buffer from now on. */
  hold(): void {
    const s = this.#open('hold its reading');
    if (this.#heldAt !== undefined) return;
    this.#heldAt = s.sent.length;
    s.hold();
  }

  /** Read everything the server buffered: the drain event, after which the plugin's writables resume. */
  release(): void {
    const s = this.#open('release its reading');
    if (this.#heldAt === undefined) return;
    this.#heldAt = undefined;
    s.release();
    this.#site.flush();
  }

  /** Close from this side, with a close frame; 1006 plays a connection lost without one. */
  close(code = 1000, reason = ''): void {
    this.#open('close').closeFromPeer(code, reason);
    this.#site.flush();
  }

  #socket(action: string) {
    const s = this.#res.socket;
    if (s) return s;
    const status = this.status;
    const state = status === undefined ? 'its upgrade is still being decided (an asynchronous filter)' : `its upgrade was refused with ${status}`;
    throw tswsError('TSWS_ERR_KIT_CLIENT_STATE', { client: this.number, protocol: this.protocol, action, state });
  }

  #open(action: string) {
    const s = this.#socket(action);
    const ended = s.ending;
    if (ended) throw tswsError('TSWS_ERR_KIT_CLIENT_STATE', { client: this.number, protocol: this.protocol, action, state: `it is closed (${ended.code}${ended.reason ? ` "${ended.reason}"` : ''})` });
    return s;
  }
}

/** "101 Switching Protocols" → 101; "" (nothing written yet) → undefined. */
export function statusOf(line: string): number | undefined {
  const n = Number.parseInt(line, 10);
  return Number.isNaN(n) ? undefined : n;
}
