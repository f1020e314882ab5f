/** @module The client connections one protocol on one vhost opened: made here, every one closed at its destroy. */
import type { ClientConnectInfo } from '../../plugin/api-client.ts';
import { ClientConnection } from './client-connection.ts';
import type { ClientHost, ClientOrigin } from './client-host.ts';
import { clientSettings } from './settings.ts';

/** What a connection is to its set: something to cancel. */
interface Cancellable {
  cancel(): void;
}

export class ClientSet {
  readonly #host: ClientHost & ClientOrigin;
  readonly #live = new Set<Cancellable>();
  #cancelled = false;

  constructor(host: ClientHost & ClientOrigin) {
    this.#host = host;
  }

  /** Client connections not closed for good (connecting, open, or waiting to retry). */
  get size(): number {
    return this.#live.size;
  }

  /** vhost.connect: checks the options (TSWS_ERR_CLIENT_OPTIONS), then starts the first attempt. */
  open<T, H>(info: ClientConnectInfo<T, H>, view: H): ClientConnection<T, H> {
    const settings = clientSettings(info, this.#host);
    // T is inferred from `session`; with none given it defaults to undefined, which is then what info.session holds.
    const session = info.session as T;
    const conn: ClientConnection<T, H> = new ClientConnection(this.#host, settings, info.callbacks, view, session, () => this.#live.delete(conn));
    if (this.#cancelled) {
      // After destroy (a promise that settled late): a connection that never connects, rather than one that outlives its vhost.
      this.#host.log.debug({ url: settings.url }, 'client connection opened after destroy: not started');
      conn.cancel();
      return conn;
    }
    this.#live.add(conn);
    conn.start();
    return conn;
  }

  /** At destroy (stop, reload, or a failed init): every connection closed, later ones never started. */
  cancelAll(): void {
    this.#cancelled = true;
    for (const c of [...this.#live]) c.cancel();
    this.#live.clear();
  }
}
