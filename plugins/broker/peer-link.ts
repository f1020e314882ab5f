/** @module The link this server keeps open to one peer server: a broker-peer websocket, authenticated, pinged, reconnected with backoff. */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Timer } from '../../server/plugin/api.ts';
import { Backoff } from '../tunnel/agent/backoff.ts';
import { parseDelivered, parseHelloAnswer, PEER_PROTOCOL, PEER_WIRE_VERSION, type LinkFrame } from './peer-wire.ts';

/** Deliveries queued in the socket past this make the peer count as unreachable until it drains. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** A peer must complete the websocket handshake within this. */
const HANDSHAKE_MS = 10_000;
/** A delivery not answered within this counts as not delivered (the link is stuck; its ping will cut it). */
const ACK_MS = 10_000;

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
  /** Framework timers: a pending reconnect is cancelled with the vhost. */
  setTimeout(ms: number, fn: () => void): Timer;
}

export type LinkState = 'connecting' | 'open' | 'waiting' | 'stopped';

/**
 * Links are one-way: this server sends its deliveries for `name` on the link
 * it opened to `name`, and receives that server's deliveries on the link
 * `name` opened to it. Each server therefore lists the others in "peers".
 *
 * Reconnect policy: a link that closes, fails to open, or is refused is
 * opened again after a backoff delay (250 ms doubling to 15 s, equal jitter,
 * reset when a link comes up), forever, until the vhost is destroyed. A link
 * that does not answer a ping before the next one (10 s apart) is cut and
 * reopened: TCP alone may not notice a peer that vanished. Deliveries are
 * sent at most once: one written to a link that then drops is lost, and while
 * a link is down deliveries to that server are refused at once (the sender
 * sees the server as unreachable) rather than queued. The peer answers each
 * delivery with who got it; one unanswered when the link drops, or within
 * ACK_MS, is reported with all its users undelivered (it may have reached
 * them: "unreachable" means "not confirmed").
 */
export class PeerLink {
  readonly name: string;
  readonly url: string;
  readonly #deps: PeerLinkDeps;
  readonly #log: Logger;
  readonly #backoff = new Backoff({ firstMs: 250, maxMs: 15_000 });
  #ws: WebSocket | undefined;
  #state: LinkState = 'waiting';
  #retry: Timer | undefined;
  #awaitingPong = false;
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
    if (this.#state === 'waiting') this.#connect();
  }

  /**
   * Hands a delivery to the link; resolves with the peer's report of it.
   * Undefined when the peer cannot take it now (link down or stuck).
   */
  deliver(from: string, clients: readonly string[], payload: unknown): Promise<DeliveryReport> | undefined {
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws || ws.bufferedAmount > MAX_BUFFERED) return undefined;
    const ref = this.#nextRef++;
    ws.send(JSON.stringify({ type: 'deliver', ref, from, clients, payload } satisfies LinkFrame));
    return new Promise((resolve) => {
      const timer = this.#deps.setTimeout(ACK_MS, () => this.#settle(ref, undefined));
      this.#pending.set(ref, { clients, timer, resolve });
    });
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

  /** Called every ping interval by the owner. */
  heartbeat(): void {
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws) return;
    if (this.#awaitingPong) {
      this.#log.warn('broker: peer did not answer a ping; reconnecting');
      ws.terminate();
      return;
    }
    this.#awaitingPong = true;
    ws.ping();
  }

  stop(): void {
    this.#state = 'stopped';
    this.#settleAll();
    this.#retry?.cancel();
    this.#retry = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(1001, 'server stopping');
    else ws?.terminate();
  }

  #connect(): void {
    this.#state = 'connecting';
    const ws = new WebSocket(this.url, PEER_PROTOCOL, { handshakeTimeout: HANDSHAKE_MS, perMessageDeflate: false, maxPayload: 64 * 1024 });
    this.#ws = ws;
    let problem = '';
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PEER_WIRE_VERSION, server: this.#deps.self, secret: this.#deps.secret } satisfies LinkFrame)));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws !== this.#ws) return;
      if (this.#state === 'open') {
        const d = isBinary ? undefined : parseDelivered(data.toString('utf8'));
        if (d?.ok) return this.#settle(d.value.ref, { reached: d.value.clients, unreachable: d.value.unreachable });
        problem = 'the peer sent something else than a delivery report';
        return ws.terminate();
      }
      if (this.#state !== 'connecting') return;
      const answer = isBinary ? undefined : parseHelloAnswer(data.toString('utf8'));
      if (!answer?.ok) {
        problem = 'the peer answered the hello with something else than a welcome or a refusal';
        return ws.terminate();
      }
      const a = answer.value;
      if (a.type === 'refused') {
        problem = `refused: ${a.code}: ${a.message}`;
        return ws.close();
      }
      if (a.server !== this.name) {
        problem = `the server there calls itself "${a.server}", not "${this.name}": check "peers"`;
        return ws.close();
      }
      this.#up();
    });
    ws.on('pong', () => (this.#awaitingPong = false));
    ws.on('error', (err) => (problem ||= err.message));
    ws.on('close', (code, reason) => {
      if (ws !== this.#ws) return;
      this.#ws = undefined;
      this.#down(problem || `closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`);
    });
  }

  #up(): void {
    this.#state = 'open';
    this.#awaitingPong = false;
    this.#backoff.reset();
    this.#outageLogged = false;
    this.#log.info({ event: 'broker-peer-up' }, 'broker: peer link up');
  }

  #down(problem: string): void {
    this.#settleAll();
    if (this.#state === 'stopped') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'waiting';
    const delay = this.#backoff.next();
    if (wasOpen) this.#log.warn({ event: 'broker-peer-lost', problem, retryInMs: delay }, 'broker: peer link lost; reconnecting');
    else if (!this.#outageLogged) this.#log.warn({ event: 'broker-peer-unreachable', problem, retryInMs: delay }, 'broker: peer unreachable; retrying with backoff');
    else this.#log.debug({ problem, attempt: this.#backoff.attempt, retryInMs: delay }, 'broker: peer still unreachable');
    this.#outageLogged = true;
    this.#retry = this.#deps.setTimeout(delay, () => {
      this.#retry = undefined;
      if (this.#state === 'waiting') this.#connect();
    });
  }
}
