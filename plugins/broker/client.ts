/** @module One client connection of the broker: its login, its requests in flight, and its outbox written one message per writable. */
import type { PeerRequest, Timer, WriteStatus } from '../../server/plugin/api.ts';
import type { ClientEnd, Hub } from './hub.ts';
import type { ClientId } from './names.ts';
import { runMessage } from './route.ts';
import { parseClientMessage, type ErrorCode, type ServerMessage } from './wire.ts';

/** The websocket as a client uses it (a plugin Conn). */
export interface ClientConn {
  readonly id: number;
  readonly isOpen: boolean;
  readonly request: PeerRequest;
  requestWritable(): void;
  write(data: string, isBinary?: boolean): WriteStatus;
  close(code?: number, reason?: string): void;
  setTimeout(ms: number, fn: () => void): Timer;
}

/** A client has this long after connecting to log in. */
const LOGIN_MS = 10_000;
/** Messages waiting for a client that does not read; past it the client is closed (1008), as the bus does for published messages. */
const MAX_OUTBOX = 1024;
/** A client closed after a last message gets this long to read it. */
const CLOSE_GRACE_MS = 2000;

/** Close codes (README "Close codes"). */
export const CLOSE_REPLACED = 4001;
export const CLOSE_LOGIN_FAILED = 4003;

type Phase = 'login' | 'checking' | 'open';

export class BrokerClient implements ClientEnd {
  readonly #conn: ClientConn;
  readonly #hub: Hub;
  #phase: Phase = 'login';
  #user = '';
  readonly #outbox: string[] = [];
  /** Messages of this client still going through handlers; bounded by max-pending. */
  #pending = 0;
  #closeAfter: { readonly code: number; readonly reason: string } | undefined;

  constructor(conn: ClientConn, hub: Hub) {
    this.#conn = conn;
    this.#hub = hub;
  }

  get user(): string {
    return this.#user;
  }

  established(): void {
    this.#conn.setTimeout(LOGIN_MS, () => {
      if (this.#phase !== 'open') this.#conn.close(1008, 'no login');
    });
  }

  receive(data: Buffer, isBinary: boolean): void {
    if (this.#closeAfter) return;
    if (isBinary) return this.#error(undefined, 'bad-request', 'binary frames are not part of the broker protocol: send JSON as text');
    const parsed = parseClientMessage(data.toString('utf8'));
    if (!parsed.ok) return this.#error(parsed.id, 'bad-request', parsed.message);
    const req = parsed.value;
    if (req.kind === 'login') {
      if (this.#phase !== 'login') return this.#error(req.id, 'already-logged-in', this.#phase === 'open' ? `logged in as "${this.#user}" already` : 'a login is being checked');
      this.#phase = 'checking';
      this.#hub.auth
        .check(req.username, req.password, this.#conn.request.peer)
        .then((v) => {
          if (!this.#conn.isOpen) return;
          if (!v.ok) {
            this.#hub.log.warn({ user: req.username, peer: this.#conn.request.peer, code: v.code }, 'broker: login refused');
            this.push({ type: 'error', ...(req.id === undefined ? {} : { id: req.id }), code: v.code, message: v.message });
            return this.#closeAfterFlush(v.code === 'login-failed' ? CLOSE_LOGIN_FAILED : 1013, v.code);
          }
          this.#phase = 'open';
          this.#user = req.username;
          if (this.#hub.login(this)) this.#hub.log.info({ user: this.#user }, 'broker: an older connection of this user was replaced');
          this.#hub.log.info({ user: this.#user, conn: this.#conn.id, peer: this.#conn.request.peer }, 'broker: logged in');
          this.push({ type: 'welcome', ...(req.id === undefined ? {} : { id: req.id }), user: this.#user, server: this.#hub.server, types: this.#hub.types });
        })
        .catch((err: unknown) => this.#internal(err));
      return;
    }
    if (this.#phase !== 'open') return this.#error(req.id, 'not-logged-in', 'log in first: {"type": "login", "username", "password"}');
    if (this.#pending >= this.#hub.maxPending) {
      return this.#error(req.id, 'busy', `${this.#pending} of your messages are still being handled (the limit); wait for their answers`);
    }
    this.#pending++;
    runMessage(this.#hub, { user: this.#user, connId: this.#conn.id }, req.id, req.type, req.payload)
      .then((answer) => {
        this.#pending--;
        this.push(answer);
      })
      .catch((err: unknown) => this.#internal(err));
  }

  /** Queues a message for this client; dropped once it is gone or closing. */
  push(msg: ServerMessage): void {
    if (!this.#conn.isOpen || this.#closeAfter) return;
    if (this.#outbox.length >= MAX_OUTBOX) {
      this.#hub.log.warn({ user: this.#user, conn: this.#conn.id }, 'broker: client does not read its messages; closing');
      this.#conn.close(1008, 'slow consumer');
      return;
    }
    this.#outbox.push(JSON.stringify(msg));
    this.#conn.requestWritable();
  }

  writable(): void {
    const next = this.#outbox.shift();
    if (next !== undefined) this.#conn.write(next, false);
    if (this.#outbox.length > 0) this.#conn.requestWritable();
    else if (this.#closeAfter) this.#conn.close(this.#closeAfter.code, this.#closeAfter.reason);
  }

  replaced(): void {
    this.#outbox.length = 0;
    this.#conn.close(CLOSE_REPLACED, 'replaced by a newer login');
  }

  closed(): void {
    if (this.#phase === 'open') this.#hub.logout(this);
  }

  #error(id: ClientId | undefined, code: ErrorCode, message: string): void {
    this.push({ type: 'error', ...(id === undefined ? {} : { id }), code, message });
  }

  #closeAfterFlush(code: number, reason: string): void {
    this.#closeAfter = { code, reason };
    this.#conn.requestWritable();
    this.#conn.setTimeout(CLOSE_GRACE_MS, () => this.#conn.close(code, reason));
  }

  #internal(err: unknown): void {
    this.#hub.log.error({ err, user: this.#user, conn: this.#conn.id }, 'broker: internal error; closing the client');
    if (this.#conn.isOpen) this.#conn.close(1011, 'internal error');
  }
}
