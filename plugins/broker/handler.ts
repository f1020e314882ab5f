/** @module One handler as the broker sees it: requests out with ids, replies matched back by id, every failure turned into an outcome. */
import type { Logger } from 'pino';
import type { Timer } from '../../server/plugin/api.ts';
import { addressKey, type HandlerAddress } from './addresses.ts';
import { encodeRequest, MAX_LINE_BYTES, parseReplyLine, type Command, type HandlerRequest } from './handler-wire.ts';
import { ProcessChannel } from './process-channel.ts';
import { UnixChannel, type ChannelEvents, type LineChannel } from './unix-channel.ts';

/** Requests one handler may have unanswered; past it new ones get `busy`. */
const MAX_IN_FLIGHT = 1024;
/** Bytes written to a handler it has not read yet; past it new requests get `busy` rather than pile up in memory. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export type FailureCode = 'handler-down' | 'handler-timeout' | 'bad-handler-reply' | 'busy';

/** How one request to a handler ended: never a rejection. */
export type Outcome =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly code: FailureCode; readonly message: string };

export interface HandlerDeps {
  readonly log: Logger;
  readonly timeoutMs: number;
  /** Framework timers (the vhost's): cancelled with it. */
  setTimeout(ms: number, fn: () => void): Timer;
}

interface Pending {
  readonly resolve: (o: Outcome) => void;
  readonly timer: Timer;
}

/**
 * No head-of-line blocking: every request goes out at once with an id of
 * the broker's own (clients' ids may collide), and the handler may answer in
 * any order. A slow answer to one client holds up nobody else; it ends in
 * `handler-timeout` for that request alone, and an answer coming after that
 * is dropped.
 *
 * Trust policy: a reply with a readable id but a wrong command fails that
 * request alone (`bad-handler-reply`). A line that is not a JSON object with
 * an id (or one over 2 MiB) means the stream can no longer be matched to
 * requests: every request in flight fails with `bad-handler-reply` and the
 * stream is dropped (a socket closed, a process killed and restarted).
 */
export class Handler {
  readonly name: string;
  readonly #deps: HandlerDeps;
  readonly #log: Logger;
  readonly #channel: LineChannel;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(address: HandlerAddress, deps: HandlerDeps) {
    this.name = addressKey(address);
    this.#deps = deps;
    this.#log = deps.log.child({ handler: this.name });
    const events: ChannelEvents = {
      line: (text) => this.#line(text),
      lost: (reason) => this.#failAll('handler-down', reason),
      tooLong: () => this.#broken(`a line longer than ${MAX_LINE_BYTES} bytes`),
    };
    if (address.kind === 'unix') this.#channel = new UnixChannel(address.path, events, this.#log);
    else this.#channel = new ProcessChannel(address.argv, events, { log: this.#log, setTimeout: (ms, fn) => deps.setTimeout(ms, fn) });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  request(req: HandlerRequest): Promise<Outcome> {
    if (this.#pending.size >= MAX_IN_FLIGHT || this.#channel.backlog > MAX_BACKLOG) {
      return Promise.resolve({ ok: false, code: 'busy', message: `the handler for "${req.type}" has too much work waiting; try again shortly` });
    }
    const id = this.#nextId++;
    return new Promise<Outcome>((resolve) => {
      const secs = this.#deps.timeoutMs / 1000;
      const timer = this.#deps.setTimeout(this.#deps.timeoutMs, () =>
        this.#settle(id, { ok: false, code: 'handler-timeout', message: `the handler for "${req.type}" did not answer within ${secs} s` }),
      );
      this.#pending.set(id, { resolve, timer });
      const down = (why: string) => this.#settle(id, { ok: false, code: 'handler-down', message: `the handler for "${req.type}" is down: ${why}` });
      this.#channel.send(encodeRequest(id, req)).then(
        (notSent) => notSent !== undefined && down(notSent),
        (err: unknown) => down(err instanceof Error ? err.message : String(err)),
      );
    });
  }

  async close(): Promise<void> {
    this.#failAll('handler-down', 'the broker is stopping');
    await this.#channel.close();
  }

  #settle(id: number, outcome: Outcome): boolean {
    const p = this.#pending.get(id);
    if (!p) return false;
    this.#pending.delete(id);
    p.timer.cancel();
    p.resolve(outcome);
    return true;
  }

  #failAll(code: FailureCode, reason: string): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, { ok: false, code, message: reason });
  }

  #line(text: string): void {
    const r = parseReplyLine(text);
    switch (r.kind) {
      case 'command':
        if (!this.#settle(r.id, { ok: true, command: r.command })) this.#log.debug({ id: r.id }, 'broker: reply to a request no longer waiting (timed out) dropped');
        return;
      case 'bad-reply':
        this.#log.warn({ id: r.id, error: r.error }, 'broker: handler sent a malformed reply');
        this.#settle(r.id, { ok: false, code: 'bad-handler-reply', message: `the handler's reply was malformed: ${r.error}` });
        return;
      case 'garbage':
        this.#broken(r.error);
        return;
      default: {
        const unreachable: never = r;
        return unreachable;
      }
    }
  }

  #broken(error: string): void {
    this.#log.error({ error, inFlight: this.#pending.size }, 'broker: handler broke the framing; failing its requests in flight and dropping the stream');
    this.#failAll('bad-handler-reply', `the handler answered garbage (${error})`);
    this.#channel.reset(error);
  }
}
