/** @module A link another server opened to this one (protocol broker-peer): its hello checked, then its deliveries handed to local users. */
import type { Logger } from 'pino';
import type { ClientConn } from './client.ts';
import type { Hub } from './hub.ts';
import { CLOSE_REFUSED, parseLinkFrame, PEER_WIRE_VERSION, type AcceptFrame, type RefusalCode } from './peer-wire.ts';

/** A linking server must say hello within this. */
const HELLO_MS = 10_000;
/** Answers (the hello's, then one per delivery) waiting for a peer that does not read: past this its link is closed. */
const MAX_OUTBOX = 4096;

type Phase = 'hello' | 'open' | 'closing';

export class PeerInbound {
  readonly #conn: ClientConn;
  readonly #hubOf: () => Hub | undefined;
  readonly #log: Logger;
  #phase: Phase = 'hello';
  #hub: Hub | undefined;
  #server = '';
  readonly #outbox: string[] = [];
  #closeAfter: { readonly code: number; readonly reason: string } | undefined;

  /** `hubOf` finds the broker of this vhost (protocol broker), which the link delivers to. */
  constructor(conn: ClientConn, hubOf: () => Hub | undefined, log: Logger) {
    this.#conn = conn;
    this.#hubOf = hubOf;
    this.#log = log.child({ conn: conn.id, peerAddress: conn.request.peer });
  }

  established(): void {
    this.#conn.setTimeout(HELLO_MS, () => {
      if (this.#phase === 'hello') this.#conn.close(1008, 'no hello');
    });
  }

  receive(data: Buffer, isBinary: boolean): void {
    if (this.#phase === 'closing') return;
    const f = isBinary ? { ok: false as const, error: 'a binary frame' } : parseLinkFrame(data.toString('utf8'));
    if (this.#phase === 'hello') {
      if (!f.ok || f.value.type !== 'hello') return this.#refuse('bad-hello', `the first frame must be a hello (${f.ok ? f.value.type : f.error})`);
      const hello = f.value;
      if (hello.v !== PEER_WIRE_VERSION) return this.#refuse('bad-version', `this server speaks broker-peer version ${PEER_WIRE_VERSION}`);
      const hub = this.#hubOf();
      if (!hub) return this.#refuse('no-broker', 'this vhost offers broker-peer without the broker protocol');
      if (!hub.secretMatches(hello.secret)) {
        return this.#refuse('bad-secret', hub.acceptsPeers ? 'wrong secret' : 'this server has no "peer-secret": it takes no peer links');
      }
      if (hello.server === hub.server) return this.#refuse('bad-hello', `"${hello.server}" is this server's own name`);
      this.#hub = hub;
      this.#server = hello.server;
      this.#phase = 'open';
      this.#log.info({ event: 'broker-peer-in', server: hello.server }, 'broker: peer server linked in');
      return this.#queue({ type: 'welcome', v: PEER_WIRE_VERSION, server: hub.server });
    }
    if (!f.ok || f.value.type !== 'deliver') {
      this.#log.warn({ server: this.#server, error: f.ok ? `unexpected ${f.value.type}` : f.error }, 'broker: bad frame from a peer server; closing its link');
      this.#phase = 'closing';
      return this.#conn.close(1008, 'bad frame');
    }
    const d = f.value;
    const r = this.#hub?.deliverLocal(d.clients, d.from, this.#server, d.payload) ?? { reached: [], unreachable: d.clients };
    if (r.unreachable.length > 0) this.#log.info({ server: this.#server, from: d.from, unreachable: r.unreachable }, 'broker: delivery from a peer for users not connected here dropped');
    // The sender's "sent" reports who got it here and who did not, as it does for its own users.
    this.#queue({ type: 'delivered', ref: d.ref, clients: r.reached, unreachable: r.unreachable });
  }

  writable(): void {
    const next = this.#outbox.shift();
    if (next !== undefined) this.#conn.write(next, false);
    if (this.#outbox.length > 0) this.#conn.requestWritable();
    else if (this.#closeAfter) this.#conn.close(this.#closeAfter.code, this.#closeAfter.reason);
  }

  closed(code: number): void {
    if (this.#server !== '') this.#log.info({ event: 'broker-peer-in-closed', server: this.#server, code }, 'broker: peer server link closed');
  }

  #queue(answer: AcceptFrame): void {
    if (this.#outbox.length >= MAX_OUTBOX) return this.#conn.close(1008, 'slow consumer');
    this.#outbox.push(JSON.stringify(answer));
    this.#conn.requestWritable();
  }

  #refuse(code: RefusalCode, message: string): void {
    this.#log.warn({ code, reason: message }, 'broker: peer link refused');
    this.#queue({ type: 'refused', code, message });
    this.#phase = 'closing';
    this.#closeAfter = { code: CLOSE_REFUSED, reason: code };
    this.#conn.setTimeout(2000, () => this.#conn.close(CLOSE_REFUSED, code));
  }
}
