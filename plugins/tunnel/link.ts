/** @module One tunnel on the public node: its handshake, the frames it receives, and its outbound queue written one frame per writable. */
import type { Logger } from 'pino';
import type { PeerRequest, Timer, WriteStatus } from '../../server/plugin/api.ts';
import { ForwardStream, type StreamCarrier, type UploadSource } from './forward.ts';
import { handshake, type Terms } from './handshake.ts';
import type { Delivery, NodeDirectory, TunnelEnd } from './node-ref.ts';
import { relay, type RelayContext } from './relay.ts';
import { decodeBinary, frameText, parseAgentFrame, type AgentFrame, type HeaderPairs, type Offer } from './wire.ts';
import { WsStream, type WsCarrier, type WsOpen } from './ws-stream.ts';

/** The websocket as a link uses it (a plugin Conn). */
export interface LinkConn {
  readonly id: number;
  readonly isOpen: boolean;
  readonly request: PeerRequest;
  requestWritable(): void;
  write(data: string | Uint8Array, isBinary?: boolean): WriteStatus;
  close(code?: number, reason?: string): void;
  setTimeout(ms: number, fn: () => void): Timer;
  setInterval(ms: number, fn: () => void): Timer;
}

/** Per-request settings, taken from the configuration serving the request. */
export interface StreamLimits {
  readonly maxStreams: number;
  /** How long a node has to send a forwarded request's response head (then 504). */
  readonly requestTimeoutMs: number;
}

export interface LinkContext extends RelayContext, StreamLimits {
  readonly directory: NodeDirectory<TunnelLink>;
  readonly terms: Terms;
  readonly helloTimeoutMs: number;
}

/** Close codes a tunnel ends with (README "Close codes"). */
export const CLOSE_REPLACED = 4001;
export const CLOSE_REFUSED = 4003;
export const CLOSE_SILENT = 4008;

/**
 * The largest frame a tunnel may send: a message of max-message-bytes (at
 * most 512 KiB) in its envelope. The protocol's own limit is higher, for the
 * browsers' websockets it relays (ws-max-message-kb).
 */
export const MAX_TUNNEL_FRAME = 600 * 1024;

/** Relayed messages waiting for one tunnel; past this (or the bytes) new ones are refused as busy. */
const MAX_QUEUED_MESSAGES = 4096;
const MAX_QUEUED_MESSAGE_BYTES = 8 * 1024 * 1024;

type Phase = 'hello' | 'open' | 'closing';

/**
 * Writable policy: control frames (welcome, pong, req, credit, ack...) are
 * small and unblock the other side, so they go first; then relayed messages
 * and upload chunks take turns, uploads round-robin across streams. Every
 * queue is bounded: control by what the peer's own frames cause, uploads by
 * the credit window per stream and `max-streams`, messages by their caps.
 */
export class TunnelLink implements TunnelEnd, StreamCarrier, WsCarrier {
  readonly tunnelId: number;
  readonly #conn: LinkConn;
  readonly #ctx: LinkContext;
  readonly #log: Logger;
  #phase: Phase = 'hello';
  #nodeId = '';
  #offers: readonly Offer[] = [];
  readonly #control: string[] = [];
  readonly #messages: { frame: string; done: (d: Delivery) => void }[] = [];
  #messageBytes = 0;
  readonly #ready: UploadSource[] = [];
  #messagesTurn = false;
  readonly #streams = new Map<number, ForwardStream>();
  readonly #sockets = new Map<number, WsStream>();
  #nextStream = 1;
  /** Messages this node sent that have no ack or nack yet. */
  #unanswered = 0;
  #lastHeard = Date.now();
  #closeAfterFlush: { code: number; reason: string } | undefined;

  constructor(conn: LinkConn, ctx: LinkContext) {
    this.tunnelId = ctx.directory.newTunnelId();
    this.#conn = conn;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ tunnel: this.tunnelId, peer: conn.request.peer });
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get window(): number {
    return this.#ctx.terms.window;
  }

  get wsMaxMessage(): number {
    return this.#ctx.terms.wsMaxMessage;
  }

  get offers(): readonly Offer[] {
    return this.#offers;
  }

  // ---- websocket callbacks -----------------------------------------------------

  established(): void {
    this.#conn.setTimeout(this.#ctx.helloTimeoutMs, () => {
      if (this.#phase === 'hello') this.#conn.close(1008, 'no hello');
    });
    const hb = this.#ctx.terms.heartbeatSecs * 1000;
    this.#conn.setInterval(hb, () => {
      if (this.#phase === 'open' && Date.now() - this.#lastHeard > 3 * hb) {
        this.#log.warn({ node: this.#nodeId }, 'tunnel: silent for three heartbeats, closing');
        this.#conn.close(CLOSE_SILENT, 'heartbeat timeout');
      }
    });
  }

  receive(data: Buffer, isBinary: boolean): void {
    this.#lastHeard = Date.now();
    if (data.length > MAX_TUNNEL_FRAME) return this.violation(`a frame over ${MAX_TUNNEL_FRAME} bytes`);
    switch (this.#phase) {
      case 'hello':
        return isBinary ? this.#conn.close(1008, 'the first frame must be a hello') : this.#hello(data.toString('utf8'));
      case 'open':
        return isBinary ? this.#data(data) : this.#frame(data.toString('utf8'));
      case 'closing':
        return;
      default: {
        const unreachable: never = this.#phase;
        return unreachable;
      }
    }
  }

  writable(): void {
    const conn = this.#conn;
    if (!conn.isOpen) return;
    const ctl = this.#control.shift();
    if (ctl !== undefined) conn.write(ctl, false);
    else {
      this.#messagesTurn = !this.#messagesTurn;
      const wrote = this.#messagesTurn ? this.#writeMessage() : this.#writeUpload();
      if (!wrote) {
        if (this.#messagesTurn) this.#writeUpload();
        else this.#writeMessage();
      }
    }
    if (this.#control.length > 0 || this.#messages.length > 0 || this.#ready.length > 0) conn.requestWritable();
    else if (this.#closeAfterFlush) conn.close(this.#closeAfterFlush.code, this.#closeAfterFlush.reason);
  }

  closed(code: number, reason: string): void {
    const wasOpen = this.#phase === 'open';
    this.#phase = 'closing';
    if (wasOpen) {
      this.#ctx.directory.forgetTunnel(this.#nodeId, this);
      this.#log.info({ node: this.#nodeId, code, reason, streams: this.#streams.size }, 'tunnel: down');
    }
    for (const s of [...this.#streams.values()]) s.tunnelGone();
    for (const s of [...this.#sockets.values()]) s.tunnelGone();
    for (const m of this.#messages.splice(0)) m.done({ ok: false, code: 'not-connected', message: `node ${this.#nodeId}'s tunnel closed` });
    this.#ready.length = 0;
    this.#control.length = 0;
  }

  // ---- the handshake ---------------------------------------------------------------

  #hello(text: string): void {
    const r = handshake(text, this.#ctx.tokens, this.#ctx.terms);
    this.#push(frameText(r.answer));
    if (!r.ok) {
      this.#log.warn({ code: r.answer.code, detail: r.answer.message }, 'tunnel: hello refused');
      this.#phase = 'closing';
      this.#closeAfterFlush = r.answer.code === 'bad-credentials' ? { code: CLOSE_REFUSED, reason: 'refused' } : { code: 1008, reason: r.answer.code };
      return;
    }
    this.#nodeId = r.hello.id;
    this.#offers = r.offers;
    this.#phase = 'open';
    this.#ctx.directory.registerTunnel(this.#nodeId, this.#offers, this);
    this.#log.info({ node: this.#nodeId, offers: this.#offers }, 'tunnel: up');
  }

  /** TunnelEnd: a newer registration took this node id. */
  replaced(): void {
    if (this.#phase !== 'open') return;
    this.#log.info({ node: this.#nodeId }, 'tunnel: replaced by a newer registration');
    this.#conn.close(CLOSE_REPLACED, 'replaced by a newer registration');
  }

  /** TunnelEnd: a reload removed or changed this node's token. */
  revoked(): void {
    if (this.#phase !== 'open') return;
    this.#log.info({ node: this.#nodeId }, 'tunnel: credentials revoked by a reload');
    this.#conn.close(CLOSE_REFUSED, 'refused');
  }

  // ---- frames from the private node --------------------------------------------------

  #frame(text: string): void {
    const parsed = parseAgentFrame(text);
    if (!parsed.ok) return this.violation(parsed.error);
    const f: AgentFrame = parsed.value;
    switch (f.type) {
      case 'ping':
        return this.#push(frameText({ type: 'pong' }));
      case 'head':
        return this.#streams.get(f.id)?.head(f.status, f.headers);
      case 'end':
        return this.#streams.get(f.id)?.end();
      case 'fail':
        return this.#streams.get(f.id)?.fail(f.status, f.message || `node ${this.#nodeId} could not answer`);
      case 'credit':
        return (this.#streams.get(f.id) ?? this.#sockets.get(f.id))?.credit(f.bytes);
      case 'msg':
        return this.#relay(f.to, f.seq, f.body);
      case 'wsaccept':
        return this.#sockets.get(f.id)?.accepted(f.protocol);
      case 'wsrefuse':
        return this.#sockets.get(f.id)?.refused(f.status, f.message);
      case 'wsclose':
        return this.#sockets.get(f.id)?.nodeClosed(f.code, f.reason);
      default: {
        const unreachable: never = f;
        return unreachable;
      }
    }
  }

  /** Bytes for a stream that is gone (cancelled, timed out, closed) are dropped: they were in flight. */
  #data(frame: Buffer): void {
    const d = decodeBinary(frame);
    if (!d.ok) return this.violation(d.error);
    const f = d.value;
    if (f.kind === 'body') this.#streams.get(f.stream)?.data(f.payload);
    else this.#sockets.get(f.stream)?.piece(f);
  }

  #relay(to: string, seq: number, body: unknown): void {
    if (this.#unanswered >= this.#ctx.terms.messageWindow) return this.violation(`more than ${this.#ctx.terms.messageWindow} messages unanswered`);
    this.#unanswered++;
    relay(this.#ctx, { from: this.#nodeId, to, body }, (d) => {
      this.#unanswered--;
      if (this.#phase !== 'open') return;
      this.#push(frameText(d.ok ? { type: 'ack', seq } : { type: 'nack', seq, code: d.code, message: d.message }));
    });
  }

  violation(reason: string): void {
    if (this.#phase === 'closing') return;
    this.#log.warn({ node: this.#nodeId, reason }, 'tunnel: protocol violation, closing');
    this.#conn.close(1008, reason.slice(0, 120));
  }

  // ---- outbound ------------------------------------------------------------------------

  #push(frame: string): void {
    this.#control.push(frame);
    this.#conn.requestWritable();
  }

  push(frame: string): void {
    if (this.#phase === 'open') this.#push(frame);
  }

  /** TunnelEnd: queue a relayed message. */
  deliver(frame: string, done: (d: Delivery) => void): void {
    if (this.#phase !== 'open') return done({ ok: false, code: 'not-connected', message: `node ${this.#nodeId}'s tunnel closed` });
    if (this.#messages.length >= MAX_QUEUED_MESSAGES || this.#messageBytes + frame.length > MAX_QUEUED_MESSAGE_BYTES) {
      return done({ ok: false, code: 'busy', message: `node ${this.#nodeId} has too many messages waiting` });
    }
    this.#messages.push({ frame, done });
    this.#messageBytes += frame.length;
    this.#conn.requestWritable();
  }

  #writeMessage(): boolean {
    const m = this.#messages.shift();
    if (!m) return false;
    this.#messageBytes -= m.frame.length;
    const status = this.#conn.write(m.frame, false);
    m.done(status === 'dropped' ? { ok: false, code: 'delivery-failed', message: 'the tunnel dropped it' } : { ok: true });
    return true;
  }

  #writeUpload(): boolean {
    for (let s = this.#ready.shift(); s; s = this.#ready.shift()) {
      s.queuedForData = false;
      const frame = s.nextFrame();
      if (frame === undefined) continue;
      this.#conn.write(frame, typeof frame !== 'string');
      if (s.hasSendableUpload) this.readyForData(s);
      return true;
    }
    return false;
  }

  // ---- streams ---------------------------------------------------------------------------

  /**
   * A forwarded request starts: undefined when this tunnel carries `max-streams` already.
   * `limits` are the current configuration's: a tunnel from before a reload keeps the
   * terms of its welcome, but requests made after it follow the new settings.
   */
  openStream(txn: ForwardStream['txn'], req: { path: string; headers: HeaderPairs; body: boolean }, limits: StreamLimits): ForwardStream | undefined {
    const id = this.#newStreamId(limits);
    if (id === undefined) return undefined;
    const stream = new ForwardStream(id, txn, this, req, limits.requestTimeoutMs);
    this.#streams.set(id, stream);
    return stream;
  }

  /** A forwarded websocket starts (v2 agents that offer `websocket`): undefined when this tunnel carries `max-streams` already. */
  openWs(open: WsOpen, limits: StreamLimits, timer: (ms: number, fn: () => void) => Timer): WsStream | undefined {
    const id = this.#newStreamId(limits);
    if (id === undefined) return undefined;
    const stream = new WsStream(id, this, open, timer, limits.requestTimeoutMs);
    this.#sockets.set(id, stream);
    return stream;
  }

  /** Requests and websockets share one id space and the `max-streams` bound. */
  #newStreamId(limits: StreamLimits): number | undefined {
    if (this.#phase !== 'open' || this.#streams.size + this.#sockets.size >= limits.maxStreams) return undefined;
    while (this.#streams.has(this.#nextStream) || this.#sockets.has(this.#nextStream)) this.#nextStream = (this.#nextStream % 0xffffffff) + 1;
    const id = this.#nextStream;
    this.#nextStream = (id % 0xffffffff) + 1;
    return id;
  }

  readyForData(stream: UploadSource): void {
    if (stream.queuedForData || this.#phase !== 'open') return;
    stream.queuedForData = true;
    this.#ready.push(stream);
    this.#conn.requestWritable();
  }

  dropStream(stream: ForwardStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#unready(stream);
  }

  dropWs(stream: WsStream): void {
    if (this.#sockets.get(stream.id) === stream) this.#sockets.delete(stream.id);
    this.#unready(stream);
  }

  #unready(source: UploadSource): void {
    if (!source.queuedForData) return;
    source.queuedForData = false;
    const i = this.#ready.indexOf(source);
    if (i >= 0) this.#ready.splice(i, 1);
  }
}
