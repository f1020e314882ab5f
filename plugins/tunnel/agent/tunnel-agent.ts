/** @module The private node's agent: keeps one tunnel up (a client connection: hello, heartbeats, reconnects with backoff), serves forwarded requests, sends and receives messages. */
import type { Logger } from 'pino';
import type { StandaloneClients, StandaloneConn } from '../../../server/session/client/standalone.ts';
import type { TswsError } from '../../../server/plugin/api.ts';
import type { Delivery } from '../node-ref.ts';
import { PROTOCOL, WIRE_VERSION, decodeBinary, frameText, parseServerFrame, type AgentFrame, type Hello, type Offer, type ServerFrame, type Welcome } from '../wire.ts';
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
  /** Client connections (standaloneClients): the tunnel, and the websockets to the target, are opened with it. */
  readonly connect: StandaloneClients['connect'];
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

/** The tunnel's own frames are at most 600 KiB (README, "Frames"): this leaves room. */
const MAX_FRAME = 4 * 1024 * 1024;

/**
 * Liveness of the path to the public node: a websocket ping this often, and a
 * ping answered by nothing (no pong, no frame) before the next one cuts the
 * tunnel and reconnects. The default heartbeat-secs (20): TCP alone may take
 * minutes to notice a public node that vanished. The wire's own `ping`
 * (every heartbeatSecs of the welcome) goes on: it is what tells the public
 * node this agent is alive.
 */
const LIVENESS_MS = 20_000;

interface Outgoing {
  readonly to: string;
  readonly body: unknown;
  readonly resolve: (d: Delivery) => void;
}

export class TunnelAgent {
  readonly #opts: AgentOptions;
  readonly #log: Logger;
  readonly #requests: TargetRequests;
  readonly #sockets: TargetSockets;
  #conn: StandaloneConn | undefined;
  #stopped = false;
  #welcome: Welcome | undefined;
  #refused: string | undefined;
  /** Why the last attempt failed or the last tunnel closed, for the line its retry logs. */
  #why = '';
  #closeCode: number | undefined;
  #wasUp = false;
  /** Frames for the public node, one written per clientWritable (TargetRequests and TargetSockets fill it too). */
  #frames: (string | Buffer)[] = [];
  #seq = 0;
  readonly #outbox: Outgoing[] = [];
  readonly #inFlight = new Map<number, Outgoing>();

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    const side = {
      window: () => this.#welcome?.window ?? 0,
      send: (f: AgentFrame | Buffer) => this.#send(f),
      wsMaxMessage: () => this.#welcome?.wsMaxMessage ?? DEFAULT_WS_MAX_MESSAGE,
      connect: opts.connect,
    };
    this.#requests = new TargetRequests(opts.target, side, opts.log);
    this.#sockets = new TargetSockets(opts.target, side, opts.log);
  }

  get state(): AgentState {
    if (this.#stopped) return 'stopped';
    if (this.#welcome) return 'open';
    return this.#conn?.state === 'waiting' ? 'waiting' : 'connecting';
  }

  get offers(): readonly Offer[] {
    return this.#opts.target ? ['http', 'messages', 'websocket'] : ['messages'];
  }

  /**
   * Reconnect policy (the framework's): after a failed attempt or a lost
   * tunnel, again after a backoff delay (500 ms doubling to 30 s, equal
   * jitter) for ever. The delays start over only once the public node
   * welcomes us (resetOn 'manual'): a refused or broken hello does not bring
   * the next attempt sooner. A refusal, or a close saying the id is not ours
   * (4003, 4001), ends it for good.
   */
  start(): void {
    if (this.#stopped || this.#conn) return;
    this.#log.info({ server: this.#opts.server }, 'connecting');
    const { firstMs, maxMs } = this.#opts.backoff ?? { firstMs: 500, maxMs: 30_000 };
    this.#conn = this.#opts.connect({
      url: this.#opts.server,
      protocol: PROTOCOL,
      timeoutMs: 10_000,
      maxMessageSize: MAX_FRAME,
      pingIntervalMs: LIVENESS_MS,
      reconnect: { firstMs, maxMs, resetOn: 'manual' },
      callbacks: {
        clientEstablished: () => {
          this.#refused = undefined;
          this.#send({ type: 'hello', v: WIRE_VERSION, id: this.#opts.id, token: this.#opts.token, offers: [...this.offers] });
        },
        clientReceive: (conn, data, isBinary) => this.#received(conn, data, isBinary),
        clientWritable: (conn) => {
          const next = this.#frames.shift();
          if (next === undefined) return;
          conn.write(next);
          if (this.#frames.length > 0) conn.requestWritable();
        },
        clientConnectionError: (_conn, err) => {
          this.#why = shortly(err);
          this.#closeCode = undefined;
        },
        clientClosed: (conn, code, reason) => this.#closed(conn, code, reason),
        clientReconnecting: (conn, next) => {
          const line = { closeCode: this.#closeCode, error: conn.lastError?.code, reason: this.#why, retryInMs: next.delayMs, attempt: next.attempt };
          this.#log.warn(line, this.#wasUp ? 'tunnel down; reconnecting' : 'cannot reach the public node; retrying');
          this.#wasUp = false;
          this.#why = '';
        },
      },
    });
  }

  /** Closes the tunnel for good (1000); messages not yet answered resolve as `disconnected`. */
  stop(): void {
    this.#stopped = true;
    this.#down();
    this.#conn?.close(1000, 'agent stopping');
    for (const m of this.#outbox.splice(0)) m.resolve({ ok: false, code: 'disconnected', message: 'the agent stopped' });
    this.#requests.close();
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
    if (this.#stopped) return Promise.resolve({ ok: false, code: 'disconnected', message: 'the agent stopped' });
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

  #received(conn: StandaloneConn, data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.#data(data);
    const f = parseServerFrame(data.toString('utf8'));
    if (!f.ok) {
      this.#log.error({ error: f.error }, 'the public node sent a frame this agent does not understand; reconnecting');
      this.#why = `bad frame: ${f.error}`;
      return conn.reconnect(1008, 'bad frame');
    }
    this.#frame(conn, f.value);
  }

  #frame(conn: StandaloneConn, f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        // Only the answer to our hello; a second one would start a second heartbeat.
        return this.#welcome ? undefined : this.#up(conn, f);
      case 'refused':
        this.#refused = `${f.code}: ${f.message}`;
        // For good: clientClosed follows and stops the agent.
        return conn.close(1000, 'refused');
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

  #up(conn: StandaloneConn, welcome: Welcome): void {
    this.#welcome = welcome;
    conn.resetBackoff();
    this.#log.info({ offers: welcome.offers, target: this.#opts.target?.href }, 'tunnel up');
    // The framework's timer: it stops with this socket.
    conn.setInterval(welcome.heartbeatSecs * 1000, () => this.#send({ type: 'ping' }));
    this.#opts.onUp?.(welcome);
    this.#pump();
  }

  #down(): void {
    this.#welcome = undefined;
    this.#frames = [];
    this.#requests.dropAll();
    this.#sockets.dropAll();
    for (const [seq, m] of this.#inFlight) {
      this.#inFlight.delete(seq);
      m.resolve({ ok: false, code: 'disconnected', message: 'the tunnel dropped before the answer' });
    }
  }

  #closed(conn: StandaloneConn, code: number, reason: string): void {
    this.#wasUp = this.#welcome !== undefined;
    this.#down();
    if (this.#stopped) return;
    const fatal = this.#refused ?? (code === 4003 ? 'refused' : code === 4001 ? `another agent registered as ${this.#opts.id}` : undefined);
    if (fatal) {
      this.#stopped = true;
      // No retry: nothing will change the public node's mind.
      conn.close();
      this.#log.error({ code, reason: fatal }, 'the public node will not have this agent; stopping');
      this.#opts.onFatal?.(fatal);
      return;
    }
    this.#closeCode = code;
    this.#why ||= conn.lastError ? shortly(conn.lastError) : `${code}${reason ? ` ${reason}` : ''}`;
  }

  // ---- messages -----------------------------------------------------------------------

  #pump(): void {
    const w = this.#welcome;
    if (!w) return;
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

  /** Queued for clientWritable; dropped while no tunnel is open (what they answered is gone with it). */
  #send(f: AgentFrame | Hello | Buffer): void {
    const conn = this.#conn;
    if (!conn?.isOpen) return;
    this.#frames.push(Buffer.isBuffer(f) ? f : frameText(f));
    conn.requestWritable();
  }
}

/** A failure in a few words for the log line (its code goes beside it): Node's own message when there is one (connect ECONNREFUSED ...), else the coded detail. */
function shortly(err: TswsError): string {
  return err.cause instanceof Error ? err.cause.message : err.detail;
}
