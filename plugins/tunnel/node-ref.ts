/** @module Node references (an HTTP address or a live tunnel, never confused) and the directory of registered nodes. */
import type { NackCode, Offer } from './wire.ts';

/**
 * How to reach a node. A tagged union, so code that holds a reference must
 * say which kind it handles and the compiler checks every switch: an HTTP
 * address can never be taken for a tunnel id or the reverse (the seed's
 * objective 2). A tunnel reference names one tunnel, not the node: when the
 * node reconnects, its new tunnel gets a new id and old references go dead
 * rather than silently reaching whoever holds the id now.
 */
export type NodeRef = { readonly kind: 'http'; readonly url: string } | { readonly kind: 'tunnel'; readonly tunnelId: number };

export interface NodeEntry {
  readonly id: string;
  readonly ref: NodeRef;
  readonly offers: readonly Offer[];
  /** When it registered, ms since the epoch. */
  readonly since: number;
}

/** The outcome of delivering one message. */
export type Delivery = { readonly ok: true } | { readonly ok: false; readonly code: NackCode; readonly message: string };

/** What the directory needs from a live tunnel. */
export interface TunnelEnd {
  readonly tunnelId: number;
  /** Queues a relayed message frame; `done` runs once it was written to the tunnel, or could not be. */
  deliver(frame: string, done: (d: Delivery) => void): void;
  /** A newer registration took this node id: close, failing what is in flight. */
  replaced(): void;
  /** Its credentials are gone from the configuration (a reload): close, refused. */
  revoked(): void;
}

/** One live registration per node id, whatever the transport: the newest wins. */
export class NodeDirectory<T extends TunnelEnd = TunnelEnd> {
  readonly #nodes = new Map<string, NodeEntry>();
  readonly #tunnels = new Map<number, T>();
  /**
   * Tunnel ids come from the directory, not the module: a reload imports the
   * plugin afresh while the directory (and its ids) carries over.
   */
  #lastTunnelId = 0;

  newTunnelId(): number {
    return ++this.#lastTunnelId;
  }

  registerTunnel(id: string, offers: readonly Offer[], end: T): void {
    this.#tunnels.set(end.tunnelId, end);
    this.#put({ id, ref: { kind: 'tunnel', tunnelId: end.tunnelId }, offers, since: Date.now() });
  }

  registerHttp(id: string, offers: readonly Offer[], url: string): void {
    this.#put({ id, ref: { kind: 'http', url }, offers, since: Date.now() });
  }

  /** A tunnel closed: its node is gone unless it has registered again since. */
  forgetTunnel(id: string, end: T): void {
    this.#tunnels.delete(end.tunnelId);
    const entry = this.#nodes.get(id);
    if (entry?.ref.kind === 'tunnel' && entry.ref.tunnelId === end.tunnelId) this.#nodes.delete(id);
  }

  get(id: string): NodeEntry | undefined {
    return this.#nodes.get(id);
  }

  /** The live tunnel a reference names, if it is still open. */
  tunnel(ref: Extract<NodeRef, { kind: 'tunnel' }>): T | undefined {
    return this.#tunnels.get(ref.tunnelId);
  }

  /** After a reload: nodes whose credentials no longer hold are dropped, their tunnels closed. */
  revokeUnless(stillValid: (id: string) => boolean): string[] {
    const gone: string[] = [];
    for (const [id, entry] of this.#nodes) {
      if (stillValid(id)) continue;
      gone.push(id);
      this.#nodes.delete(id);
      if (entry.ref.kind !== 'tunnel') continue;
      const end = this.#tunnels.get(entry.ref.tunnelId);
      this.#tunnels.delete(entry.ref.tunnelId);
      end?.revoked();
    }
    return gone;
  }

  list(): NodeEntry[] {
    return [...this.#nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  #put(entry: NodeEntry): void {
    const old = this.#nodes.get(entry.id);
    this.#nodes.set(entry.id, entry);
    if (old?.ref.kind !== 'tunnel') return;
    if (entry.ref.kind === 'tunnel' && entry.ref.tunnelId === old.ref.tunnelId) return;
    const end = this.#tunnels.get(old.ref.tunnelId);
    this.#tunnels.delete(old.ref.tunnelId);
    end?.replaced();
  }
}
