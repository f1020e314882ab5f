/** @module The private node's agent: keeps one tunnel up (hello, heartbeats, reconnects with backoff), serves forwarded requests, sends and receives messages. */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Delivery } from '../node-ref.ts';
import { PROTOCOL, WIRE_VERSION, decodeBinary, frameText, parseServerFrame, type AgentFrame, type Offer, type ServerFrame, type Welcome } from '../wire.ts';
import { Backoff } from './backoff.ts';
import { TargetRequests } from './target.ts';
import { TargetSockets } from './target-ws.ts';

export interface AgentOptions {
  /** ws:// or wss:// address of the public node. */
  readonly server: string;
  readonly id: string;
  readonly token: string;
  /** The local HTTP service forwarded requests go to; without one the node offers messages only. */
  readonly target?: URL;
  readonly log: Logger;
  readonly onMessage?: (from: string, body: unknown) => void;
  /** The public node will not have this agent: bad credentials, or another agent took the id. The agent has stopped. */
  readonly onFatal?: (reason: string) => void;
  /** Each time the tunnel comes up (after the welcome). */
  readonly onUp?: (welcome: Welcome) => void;
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
}

export type AgentState = 'connecting' | 'open' | 'waiting' | 'stopped';

/** A welcome from a public node that did not say (wire version 1 has no websockets, so it never matters there). */
const DEFAULT_WS_MAX_MESSAGE = 4 * 1024 * 1024;

/** Messages waiting for a tunnel or a window slot; past this, send() answers busy. */
const MAX_OUTBOX = 10_000;

interface Outgoing {
  readonly to: string;
  readonly body: unknown;
  readonly resolve: (d: Delivery) => void;
}

export class TunnelAgent {
  readonly #opts: AgentOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #requests: TargetRequests;
  readonly #sockets: TargetSockets;
  #state: AgentState = 'waiting';
  #ws: WebSocket | undefined;
  #welcome: Welcome | undefined;
  #refused: string | undefined;
  #lastError: Error | undefined;
  #lastHeard = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #seq = 0;
  readonly #outbox: Outgoing[] = [];
  readonly #inFlight = new Map<number, Outgoing>();

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#backoff = new Backoff(opts.backoff ?? { firstMs: 500, maxMs: 30_000 });
    const side = { window: () => this.#welcome?.window ?? 0, send: (f: AgentFrame | Buffer) => this.#send(f), wsMaxMessage: () => this.#welcome?.wsMaxMessage ?? DEFAULT_WS_MAX_MESSAGE };
    this.#requests = new TargetRequests(opts.target, side, opts.log);
    this.#sockets = new TargetSockets(opts.target, side, opts.log);
  }

  get state(): AgentState {
    return this.#state;
  }

  get offers(): readonly Offer[] {
    return this.#opts.target ? ['http', 'messages', 'websocket'] : ['messages'];
  }

  start(): void {
    if (this.#state === 'stopped') return;
    this.#connect();
  }

  /** Closes the tunnel for good (1000); messages not yet answered resolve as `disconnected`. */
  stop(): void {
    this.#state = 'stopped';
    clearTimeout(this.#retry);
    this.#down();
    this.#ws?.close(1000, 'agent stopping');
    for (const m of this.#outbox.splice(0)) m.resolve({ ok: false, code: 'disconnected', message: 'the agent stopped' });
    this.#requests.close();
    this.#sockets.dropAll();
  }

  /**
   * Sends a message to node `to` through the public node. Resolves with the
   * ack (written to the recipient's tunnel or accepted at its HTTP address) or
   * the nack. Messages wait here while the tunnel is down or the message
   * window is full; one already sent when the tunnel drops resolves as
   * `disconnected` (it may or may not have arrived: it is not sent again, so
   * nothing arrives twice).
   */
  send(to: string, body: unknown): Promise<Delivery> {
    if (this.#state === 'stopped') return Promise.resolve({ ok: false, code: 'disconnected', message: 'the agent stopped' });
    if (this.#outbox.length >= MAX_OUTBOX) return Promise.resolve({ ok: false, code: 'busy', message: `${MAX_OUTBOX} messages are waiting already` });
    return new Promise((resolve) => {
      this.#outbox.push({ to, body, resolve });
      this.#pump();
    });
  }

  /** Messages sent and not yet answered. */
  get unanswered(): number {
    return this.#inFlight.size;
  }

  // ---- the connection ---------------------------------------------------------------

  #connect(): void {
    this.#state = 'connecting';
    this.#refused = undefined;
    this.#lastError = undefined;
    this.#log.info({ server: this.#opts.server }, 'connecting');
    const ws = new WebSocket(this.#opts.server, PROTOCOL, { handshakeTimeout: 10_000, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
    this.#ws = ws;
    ws.on('open', () => {
      ws.send(frameText({ type: 'hello', v: WIRE_VERSION, id: this.#opts.id, token: this.#opts.token, offers: [...this.offers] }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws !== this.#ws) return;
      this.#lastHeard = Date.now();
      if (isBinary) return this.#data(data);
      const f = parseServerFrame(data.toString('utf8'));
      if (!f.ok) {
        this.#log.error({ error: f.error }, 'the public node sent a frame this agent does not understand; reconnecting');
        return ws.terminate();
      }
      this.#frame(f.value);
    });
    ws.on('error', (err) => {
      this.#lastError = err;
    });
    ws.on('close', (code, reason) => {
      if (ws === this.#ws) this.#closed(code, reason.toString());
    });
  }

  #frame(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        // Only the answer to our hello; a second one would start a second heartbeat.
        return this.#state === 'connecting' ? this.#up(f) : undefined;
      case 'refused':
        this.#refused = `${f.code}: ${f.message}`;
        return;
      case 'pong':
        return;
      case 'req':
        return this.#requests.start(f.id, f.method, f.path, f.headers, f.body);
      case 'end':
        return this.#requests.end(f.id);
      case 'cancel':
        return this.#requests.cancel(f.id, f.reason);
      case 'credit':
        // One id space for both: at most one of them knows the id.
        this.#requests.credit(f.id, f.bytes);
        return this.#sockets.credit(f.id, f.bytes);
      case 'wsopen':
        return this.#sockets.open(f.id, f.path, f.headers, f.protocols);
      case 'wsclose':
        return this.#sockets.close(f.id, f.code, f.reason);
      case 'msg':
        this.#log.debug({ from: f.from }, 'message received');
        return this.#opts.onMessage?.(f.from, f.body);
      case 'ack':
      case 'nack':
        return this.#answered(f.seq, f.type === 'ack' ? { ok: true } : { ok: false, code: f.code, message: f.message });
      default: {
        const unreachable: never = f;
        return unreachable;
      }
    }
  }

  #data(frame: Buffer): void {
    const d = decodeBinary(frame);
    if (!d.ok) return this.#log.warn({ error: d.error }, 'bad binary frame ignored');
    const f = d.value;
    if (f.kind === 'body') this.#requests.data(f.stream, f.payload);
    else this.#sockets.piece(f.stream, f);
  }

  #up(welcome: Welcome): void {
    this.#welcome = welcome;
    this.#state = 'open';
    this.#backoff.reset();
    this.#log.info({ offers: welcome.offers, target: this.#opts.target?.href }, 'tunnel up');
    const every = welcome.heartbeatSecs * 1000;
    this.#heartbeat = setInterval(() => {
      // Silent for two heartbeats although we ping: the path is dead even if TCP has not noticed.
      if (Date.now() - this.#lastHeard > 2 * every) {
        this.#log.warn({ silentMs: Date.now() - this.#lastHeard }, 'no word from the public node; reconnecting');
        this.#ws?.terminate();
        return;
      }
      this.#send({ type: 'ping' });
    }, every);
    this.#opts.onUp?.(welcome);
    this.#pump();
  }

  #down(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#welcome = undefined;
    this.#requests.dropAll();
    this.#sockets.dropAll();
    for (const [seq, m] of this.#inFlight) {
      this.#inFlight.delete(seq);
      m.resolve({ ok: false, code: 'disconnected', message: 'the tunnel dropped before the answer' });
    }
  }

  #closed(code: number, reason: string): void {
    const wasUp = this.#state === 'open';
    this.#down();
    if (this.#state === 'stopped') return;
    const fatal = this.#refused ?? (code === 4003 ? 'refused' : code === 4001 ? `another agent registered as ${this.#opts.id}` : undefined);
    if (fatal) {
      this.#state = 'stopped';
      this.#log.error({ code, reason: fatal }, 'the public node will not have this agent; stopping');
      this.#opts.onFatal?.(fatal);
      return;
    }
    this.#state = 'waiting';
    const delay = this.#backoff.next();
    const why = this.#lastError?.message ?? `${code}${reason ? ` ${reason}` : ''}`;
    this.#log.warn({ code, reason: why, retryInMs: delay, attempt: this.#backoff.attempt }, wasUp ? 'tunnel down; reconnecting' : 'cannot reach the public node; retrying');
    this.#retry = setTimeout(() => this.#connect(), delay);
  }

  // ---- messages -----------------------------------------------------------------------

  #pump(): void {
    const w = this.#welcome;
    if (this.#state !== 'open' || !w) return;
    while (this.#outbox.length > 0 && this.#inFlight.size < w.messageWindow) {
      const m = this.#outbox.shift() as Outgoing;
      const seq = ++this.#seq;
      this.#inFlight.set(seq, m);
      this.#send({ type: 'msg', to: m.to, seq, body: m.body });
    }
  }

  #answered(seq: number, d: Delivery): void {
    const m = this.#inFlight.get(seq);
    if (!m) return;
    this.#inFlight.delete(seq);
    m.resolve(d);
    this.#pump();
  }

  #send(f: AgentFrame | Buffer): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Buffer.isBuffer(f)) ws.send(f, { binary: true });
    else ws.send(frameText(f));
  }
}
