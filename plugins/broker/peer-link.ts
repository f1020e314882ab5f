/** @module The link this server keeps open to one peer server: a broker-peer client connection (vhost.connect), authenticated, pinged, reconnected with backoff. */
import type { Logger } from 'pino';
import type { ClientConn, ProtocolVhostInit, Timer } from '../../server/plugin/api.ts';
import { parseDelivered, parseHelloAnswer, PEER_PROTOCOL, PEER_WIRE_VERSION, type LinkFrame } from './peer-wire.ts';

/** Deliveries queued (in the link and its socket) past this make the peer count as unreachable until it drains. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** A peer must complete the websocket handshake within this. */
const HANDSHAKE_MS = 10_000;
/** A delivery not answered within this counts as not delivered (the link is stuck; its ping will cut it). */
const ACK_MS = 10_000;
/** How often the link is pinged: one silent until the next ping is cut and reopened. */
const PING_MS = 10_000;
/** The peer's answers (hello answers, delivery reports) are small. */
const MAX_ANSWER = 64 * 1024;

/** What the peer said of one delivery: its users who got it, and those not connected there (or not confirmed). */
export type DeliveryReport = { readonly reached: readonly string[]; readonly unreachable: readonly string[] };

interface Pending {
  readonly clients: readonly string[];
  readonly timer: Timer;
  resolve(r: DeliveryReport): void;
}

export interface PeerLinkDeps {
  readonly log: Logger;
  /** This server's name and the federation's shared secret, for the hello. */
  readonly self: string;
  readonly secret: string;
  /** Client connections and timers of the framework: the link and its timers go with the vhost. */
  readonly vhost: Pick<ProtocolVhostInit, 'connect' | 'setTimeout'>;
}

export type LinkState = 'connecting' | 'open' | 'waiting' | 'stopped';

/**
 * Links are one-way: this server sends its deliveries for `name` on the link
 * it opened to `name`, and receives that server's deliveries on the link
 * `name` opened to it. Each server therefore lists the others in "peers".
 *
 * Reconnect policy (the framework's, see ClientConnectInfo): a link that
 * closes, fails to open, or is refused is opened again after a backoff delay
 * (250 ms doubling to 15 s, equal jitter, reset when the peer welcomes us:
 * a refused hello does not bring the next attempt sooner), forever, until the
 * vhost is destroyed. A link that does not answer a ping before the next one
 * (10 s apart) is cut and reopened: TCP alone may not notice a peer that
 * vanished. Deliveries are sent at most once: one written to a link that then
 * drops is lost, and while a link is down deliveries to that server are
 * refused at once (the sender sees the server as unreachable) rather than
 * queued. The peer answers each delivery with who got it; one unanswered when
 * the link drops, or within ACK_MS, is reported with all its users
 * undelivered (it may have reached them: "unreachable" means "not confirmed").
 */
export class PeerLink {
  readonly name: string;
  readonly url: string;
  readonly #deps: PeerLinkDeps;
  readonly #log: Logger;
  #conn: ClientConn | undefined;
  #state: LinkState = 'waiting';
  /** Frames waiting for clientWritable (the hello, then deliveries), one written per call. */
  #outbox: string[] = [];
  #outboxBytes = 0;
  /** Why the current attempt ended, for the log line its reconnection writes. */
  #problem = '';
  /** The link had been welcomed before it went down. */
  #wasUp = false;
  /** Logged once per outage, not once per attempt. */
  #outageLogged = false;
  #nextRef = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(name: string, url: string, deps: PeerLinkDeps) {
    this.name = name;
    this.url = url;
    this.#deps = deps;
    this.#log = deps.log.child({ peer: name, url });
  }

  get state(): LinkState {
    return this.#state;
  }

  start(): void {
    if (this.#state !== 'waiting' || this.#conn) return;
    this.#state = 'connecting';
    this.#conn = this.#deps.vhost.connect({
      url: this.url,
      protocol: PEER_PROTOCOL,
      timeoutMs: HANDSHAKE_MS,
      pingIntervalMs: PING_MS,
      maxMessageSize: MAX_ANSWER,
      reconnect: { firstMs: 250, maxMs: 15_000, resetOn: 'manual' },
      callbacks: {
        clientEstablished: (conn) => {
          this.#state = 'connecting';
          this.#send(conn, { type: 'hello', v: PEER_WIRE_VERSION, server: this.#deps.self, secret: this.#deps.secret });
        },
        clientReceive: (conn, data, isBinary) => this.#received(conn, data, isBinary),
        clientWritable: (conn) => {
          const frame = this.#outbox.shift();
          if (frame === undefined) return;
          this.#outboxBytes -= frame.length;
          conn.write(frame);
          if (this.#outbox.length > 0) conn.requestWritable();
        },
        clientConnectionError: (_conn, err) => {
          this.#problem ||= err.detail;
        },
        clientClosed: (_conn, code, reason) => {
          this.#problem ||= `closed (${code}${reason ? ` ${reason}` : ''})`;
          this.#lost();
        },
        clientReconnecting: (_conn, next) => this.#retrying(next.attempt, next.delayMs),
      },
    });
  }

  /**
   * Hands a delivery to the link; resolves with the peer's report of it.
   * Undefined when the peer cannot take it now (link down or stuck).
   */
  deliver(from: string, clients: readonly string[], payload: unknown): Promise<DeliveryReport> | undefined {
    const conn = this.#conn;
    if (this.#state !== 'open' || !conn || conn.bufferedAmount + this.#outboxBytes > MAX_BUFFERED) return undefined;
    const ref = this.#nextRef++;
    this.#send(conn, { type: 'deliver', ref, from, clients, payload });
    return new Promise((resolve) => {
      const timer = this.#deps.vhost.setTimeout(ACK_MS, () => this.#settle(ref, undefined));
      this.#pending.set(ref, { clients, timer, resolve });
    });
  }

  /** At destroy (the framework has closed the connection already, when it had one): pending deliveries answered, no more attempts. */
  stop(): void {
    this.#state = 'stopped';
    this.#dropOutbox();
    this.#settleAll();
    this.#conn?.close(1001, 'server stopping');
  }

  #send(conn: ClientConn, frame: LinkFrame): void {
    const text = JSON.stringify(frame);
    this.#outbox.push(text);
    this.#outboxBytes += text.length;
    conn.requestWritable();
  }

  #received(conn: ClientConn, data: Buffer, isBinary: boolean): void {
    if (this.#state === 'open') {
      const d = isBinary ? undefined : parseDelivered(data.toString('utf8'));
      if (d?.ok) return this.#settle(d.value.ref, { reached: d.value.clients, unreachable: d.value.unreachable });
      return this.#restart(conn, 'the peer sent something else than a delivery report', 1008);
    }
    if (this.#state !== 'connecting') return;
    const answer = isBinary ? undefined : parseHelloAnswer(data.toString('utf8'));
    if (!answer?.ok) return this.#restart(conn, 'the peer answered the hello with something else than a welcome or a refusal', 1008);
    const a = answer.value;
    if (a.type === 'refused') return this.#restart(conn, `refused: ${a.code}: ${a.message}`, 1000);
    if (a.server !== this.name) return this.#restart(conn, `the server there calls itself "${a.server}", not "${this.name}": check "peers"`, 1000);
    this.#state = 'open';
    this.#wasUp = true;
    conn.resetBackoff();
    this.#outageLogged = false;
    this.#log.info({ event: 'broker-peer-up' }, 'broker: peer link up');
  }

  /** This link cannot be used as it is: closed (1008 for a frame that breaks the protocol), and opened again after the backoff delay. */
  #restart(conn: ClientConn, problem: string, code: 1000 | 1008): void {
    this.#problem = problem;
    conn.reconnect(code, code === 1008 ? 'bad frame' : '');
  }

  /** The connection closed: what was queued or written and not answered is not confirmed. */
  #lost(): void {
    this.#dropOutbox();
    this.#settleAll();
    if (this.#state !== 'stopped') this.#state = 'waiting';
  }

  /** The framework will try again after `delayMs`: say so, once per outage at warn. */
  #retrying(attempt: number, delayMs: number): void {
    this.#lost();
    const problem = this.#problem;
    this.#problem = '';
    if (this.#wasUp) this.#log.warn({ event: 'broker-peer-lost', problem, retryInMs: delayMs }, 'broker: peer link lost; reconnecting');
    else if (!this.#outageLogged) this.#log.warn({ event: 'broker-peer-unreachable', problem, retryInMs: delayMs }, 'broker: peer unreachable; retrying with backoff');
    else this.#log.debug({ problem, attempt, retryInMs: delayMs }, 'broker: peer still unreachable');
    this.#wasUp = false;
    this.#outageLogged = true;
  }

  #dropOutbox(): void {
    this.#outbox = [];
    this.#outboxBytes = 0;
  }

  /** Answers one pending delivery: with the peer's report, or (undefined) all its users unconfirmed. */
  #settle(ref: number, report: DeliveryReport | undefined): void {
    const p = this.#pending.get(ref);
    if (!p) return;
    this.#pending.delete(ref);
    p.timer.cancel();
    p.resolve(report ?? { reached: [], unreachable: p.clients });
  }

  #settleAll(): void {
    for (const ref of [...this.#pending.keys()]) this.#settle(ref, undefined);
  }
}
