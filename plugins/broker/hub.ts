/** @module One broker on one vhost: its handlers by message type, its logged-in users, its links to peer servers, and delivery to them. */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { ProtocolVhostInit } from '../../server/plugin/api.ts';
import { addressKey, type HandlerAddress } from './addresses.ts';
import { HandlerAuth, NOBODY, UsersFile, type Authenticator } from './auth.ts';
import { Handler } from './handler.ts';
import { PeerLink } from './peer-link.ts';
import type { ServerMessage } from './wire.ts';

export interface HubSettings {
  readonly server: string;
  readonly handlers: ReadonlyMap<string, HandlerAddress>;
  readonly usersFile: string;
  readonly authHandler: HandlerAddress | undefined;
  readonly peers: ReadonlyMap<string, string>;
  readonly secret: string;
  /** The users of the broker this one replaces (a reload), to be shared: none for a fresh start. */
  readonly users: Map<string, ClientEnd> | undefined;
  readonly timeoutMs: number;
  readonly maxHops: number;
  readonly maxPending: number;
}

/** A logged-in client as the hub reaches it. */
export interface ClientEnd {
  readonly user: string;
  /** Queues a message for this client (written in its writable). */
  push(msg: ServerMessage): void;
  /** Another connection logged in under the same name: this one is closed. */
  replaced(): void;
}

export type Reach = { readonly reached: readonly string[]; readonly unreachable: readonly string[] };
export type ServersReach = { readonly servers: readonly string[]; readonly clients: readonly string[]; readonly unreachable: readonly string[] };

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

export class Hub {
  readonly server: string;
  readonly maxHops: number;
  readonly maxPending: number;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly #byType = new Map<string, Handler>();
  readonly #handlers = new Map<string, Handler>();
  readonly #links = new Map<string, PeerLink>();
  /**
   * Logged-in users by name. After a reload the old broker keeps serving its
   * clients until they leave, and the new one serves new logins: both use
   * this one map, so a delivery reaches a user whichever configuration it
   * logged in under, a name stays unique across both, and deliveries from
   * peers arriving on links opened before the reload reach new users too.
   * Handlers and peer links are not shared: each configuration has its own
   * (they go with the old one's destroy), so its timers die with it.
   */
  readonly users: Map<string, ClientEnd>;
  readonly #secret: Buffer | undefined;

  /** Builds every handler (starting the spawned ones) and opens the peer links. Throws on contradictory settings. */
  constructor(vhost: ProtocolVhostInit, s: HubSettings) {
    this.server = s.server;
    this.maxHops = s.maxHops;
    this.maxPending = s.maxPending;
    this.log = vhost.log;
    this.#secret = s.secret === '' ? undefined : digest(s.secret);
    this.users = s.users ?? new Map();
    if (s.usersFile !== '' && s.authHandler) throw new Error('set "users-file" or "auth-handler", not both');
    if (s.peers.size > 0 && s.secret === '') throw new Error('"peers" needs "peer-secret" (the secret every server of the federation shares)');
    // The users file is checked before anything is started, so a bad one leaves nothing running.
    const usersFile = s.usersFile !== '' ? new UsersFile(s.usersFile, vhost.log) : undefined;
    const deps = { log: vhost.log, timeoutMs: s.timeoutMs, setTimeout: (ms: number, fn: () => void) => vhost.setTimeout(ms, fn) };
    const handlerAt = (address: HandlerAddress): Handler => {
      const key = addressKey(address);
      let h = this.#handlers.get(key);
      if (!h) {
        h = new Handler(address, deps);
        this.#handlers.set(key, h);
      }
      return h;
    };
    for (const [type, address] of s.handlers) this.#byType.set(type, handlerAt(address));
    if (usersFile) this.auth = usersFile;
    else if (s.authHandler) this.auth = new HandlerAuth(handlerAt(s.authHandler), s.server, vhost.log);
    else {
      this.auth = NOBODY;
      vhost.log.warn('broker: neither "users-file" nor "auth-handler" is set: every login will be refused');
    }
    const linkDeps = { log: vhost.log, self: s.server, secret: s.secret, vhost };
    for (const [name, url] of s.peers) this.#links.set(name, new PeerLink(name, url, linkDeps));
    for (const link of this.#links.values()) link.start();
    vhost.log.info({ server: s.server, types: this.types, handlers: [...this.#handlers.keys()], peers: [...s.peers.keys()] }, 'broker: ready');
  }

  /** Message types clients may send, sorted. */
  get types(): string[] {
    return [...this.#byType.keys()].sort();
  }

  handlerFor(type: string): Handler | undefined {
    return this.#byType.get(type);
  }

  /** Whoever is logged in under `user` already is replaced (newest wins) and returned. */
  login(end: ClientEnd): ClientEnd | undefined {
    const before = this.users.get(end.user);
    this.users.set(end.user, end);
    if (before && before !== end) {
      before.replaced();
      return before;
    }
    return undefined;
  }

  logout(end: ClientEnd): void {
    if (this.users.get(end.user) === end) this.users.delete(end.user);
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Delivers to the users of this server among `users`. */
  deliverLocal(users: readonly string[], from: string, fromServer: string, payload: unknown): Reach {
    const reached: string[] = [];
    const unreachable: string[] = [];
    for (const u of users) {
      const end = this.users.get(u);
      if (!end) {
        unreachable.push(u);
        continue;
      }
      end.push({ type: 'message', from, server: fromServer, payload });
      reached.push(u);
    }
    return { reached, unreachable };
  }

  /**
   * Hands a delivery to each named server's link (this server's own name
   * delivers here) and waits for each server's report. `servers`: those it
   * was handed to; `clients` and `unreachable` name users as user@server,
   * delivered or not (not connected there, or not confirmed); `unreachable`
   * also holds the servers not linked now, by name.
   */
  async sendServers(servers: readonly string[], from: string, clients: readonly string[], payload: unknown): Promise<ServersReach> {
    const handed: string[] = [];
    const unlinked: string[] = [];
    const reports: Promise<readonly [string, Reach]>[] = [];
    for (const name of servers) {
      const report = name === this.server ? Promise.resolve(this.deliverLocal(clients, from, this.server, payload)) : this.#links.get(name)?.deliver(from, clients, payload);
      if (!report) {
        unlinked.push(name);
        continue;
      }
      handed.push(name);
      reports.push(report.then((r) => [name, r] as const));
    }
    const at = (name: string) => (u: string) => `${u}@${name}`;
    const done = await Promise.all(reports);
    return {
      servers: handed,
      clients: done.flatMap(([name, r]) => r.reached.map(at(name))),
      unreachable: [...unlinked, ...done.flatMap(([name, r]) => r.unreachable.map(at(name)))],
    };
  }

  /** A peer's hello: the federation's secret, compared in constant time; false when this server has none. */
  secretMatches(secret: string): boolean {
    if (!this.#secret) return false;
    return crypto.timingSafeEqual(this.#secret, digest(secret));
  }

  get acceptsPeers(): boolean {
    return this.#secret !== undefined;
  }

  /** At destroy: links closed, handlers stopped (spawned ones terminated). */
  async close(): Promise<void> {
    for (const link of this.#links.values()) link.stop();
    await Promise.all([...this.#handlers.values()].map((h) => h.close()));
  }
}
