/** @module The agent's side of forwarded requests: each one replayed against the local target with node:http, streamed both ways under credit. */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { HOP_BY_HOP } from '../forward.ts';
import { encodeData, slices, type AgentFrame, type HeaderPairs } from '../wire.ts';
import { EarlyAnswerAgent } from './early-answer.ts';

/** What the requests need from the tunnel. */
export interface TunnelSide {
  /** Body bytes in flight per direction, from the welcome. */
  window(): number;
  send(frame: AgentFrame | Buffer): void;
}

interface Forwarded {
  readonly req: http.ClientRequest;
  readonly started: number;
  readonly method: string;
  readonly path: string;
  res: http.IncomingMessage | undefined;
  /** Response bytes sent and not yet credited by the public node. */
  inFlight: number;
  /** Request bytes written to the target, not yet credited back. */
  owed: number;
  bytes: number;
}

/**
 * Every request is the public node's: it names the stream id, and frames for
 * ids not known here (cancelled, finished) are ignored. The response body is
 * read from the target only while fewer than `window` bytes are unacknowledged
 * (res.pause() past that), so a fast target never fills the tunnel or memory
 * while the far client reads slowly.
 */
export class TargetRequests {
  readonly #target: URL | undefined;
  readonly #tunnel: TunnelSide;
  readonly #log: Logger;
  readonly #streams = new Map<number, Forwarded>();
  readonly #agent: http.Agent;

  constructor(target: URL | undefined, tunnel: TunnelSide, log: Logger) {
    this.#target = target;
    this.#tunnel = tunnel;
    this.#log = log;
    this.#agent = new (target?.protocol === 'https:' ? https.Agent : EarlyAnswerAgent)({ keepAlive: true, maxSockets: 64 });
  }

  get active(): number {
    return this.#streams.size;
  }

  start(id: number, method: string, path: string, headers: HeaderPairs, hasBody: boolean): void {
    const target = this.#target;
    if (!target) return this.#tunnel.send({ type: 'fail', id, status: 502, message: 'this node serves no HTTP (its agent has no --target)' });
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of headers) {
      const name = k.toLowerCase();
      if (HOP_BY_HOP.has(name) || name === 'host') continue;
      const had = outHeaders[name];
      outHeaders[name] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
    }
    const fullPath = `${target.pathname.replace(/\/$/, '')}${path}`;
    let request: http.ClientRequest;
    try {
      // node:http refuses, by throwing here, what it will not put on the wire: a header value with a
      // character above U+00FF (a byte that is not UTF-8 arrives as U+FFFD), a control character, a
      // query with one. Such a request comes from whoever asked the public node: it is answered 502
      // and the tunnel goes on (thrown from this callback, it would end the tunnel for good).
      request = (target.protocol === 'https:' ? https : http).request({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method,
        path: fullPath,
        headers: outHeaders,
        agent: this.#agent,
      });
    } catch (err) {
      const message = `this request cannot be sent to the target: ${err instanceof Error ? err.message : String(err)}`;
      this.#log.warn({ stream: id, method, path }, message);
      return this.#tunnel.send({ type: 'fail', id, status: 502, message });
    }
    const s: Forwarded = { req: request, started: Date.now(), method, path, res: undefined, inFlight: 0, owed: 0, bytes: 0 };
    this.#streams.set(id, s);
    request.on('response', (res) => this.#response(id, s, res));
    request.on('error', (err) => this.#failed(id, s, `target ${target.origin} failed: ${err.message}`));
    if (!hasBody) request.end();
  }

  /** Upload bytes: written to the target, credited back once it took them. */
  data(id: number, payload: Buffer): void {
    const s = this.#streams.get(id);
    if (!s) return;
    s.req.write(payload, () => {
      if (this.#streams.get(id) !== s) return;
      s.owed += payload.length;
      if (s.owed >= this.#tunnel.window() / 4) {
        this.#tunnel.send({ type: 'credit', id, bytes: s.owed });
        s.owed = 0;
      }
    });
  }

  end(id: number): void {
    this.#streams.get(id)?.req.end();
  }

  credit(id: number, bytes: number): void {
    const s = this.#streams.get(id);
    if (!s) return;
    s.inFlight = Math.max(0, s.inFlight - bytes);
    if (s.res?.isPaused() && s.inFlight < this.#tunnel.window()) s.res.resume();
  }

  cancel(id: number, reason: string): void {
    const s = this.#streams.get(id);
    if (!s) return;
    this.#streams.delete(id);
    s.req.destroy();
    this.#log.info({ stream: id, method: s.method, path: s.path, reason }, 'request cancelled by the public node');
  }

  /** The tunnel dropped: every request in flight is abandoned (the public node answered them 502). */
  dropAll(): void {
    for (const s of this.#streams.values()) s.req.destroy();
    this.#streams.clear();
  }

  close(): void {
    this.dropAll();
    this.#agent.destroy();
  }

  #response(id: number, s: Forwarded, res: http.IncomingMessage): void {
    if (this.#streams.get(id) !== s) return void res.destroy();
    s.res = res;
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
    this.#tunnel.send({ type: 'head', id, status: res.statusCode ?? 502, headers: pairs });
    res.on('data', (chunk: Buffer) => {
      if (this.#streams.get(id) !== s) return;
      for (const part of slices(chunk)) this.#tunnel.send(encodeData(id, part));
      s.inFlight += chunk.length;
      s.bytes += chunk.length;
      if (s.inFlight >= this.#tunnel.window()) res.pause();
    });
    res.on('end', () => {
      if (this.#streams.get(id) !== s) return;
      this.#streams.delete(id);
      this.#tunnel.send({ type: 'end', id });
      this.#log.info({ stream: id, method: s.method, path: s.path, status: res.statusCode, bytes: s.bytes, ms: Date.now() - s.started }, 'request served');
    });
    res.on('error', (err) => this.#failed(id, s, `target response failed: ${err.message}`));
    // The target's connection died mid-body: the public node must cut the client's response, not end it.
    res.on('close', () => {
      if (!res.complete) this.#failed(id, s, 'the target closed the connection mid-response');
    });
  }

  #failed(id: number, s: Forwarded, message: string): void {
    if (this.#streams.get(id) !== s) return;
    this.#streams.delete(id);
    s.req.destroy();
    this.#tunnel.send({ type: 'fail', id, status: 502, message });
    this.#log.warn({ stream: id, method: s.method, path: s.path }, message);
  }
}
