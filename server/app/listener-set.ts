/** @module The listening sockets of the running configuration and those draining; a reload binds what changed before it swaps anything. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ListenerInfo, ListenerPlan, ListenPolicy } from '../ingress/listeners.ts';
import { ListenerSlot, type CreateListener, type Route } from './listener-slot.ts';
import { transportSignature, wsOptions } from './transport-signature.ts';

/** Listeners bound for a configuration not served yet: commit() serves them, unstage() gives everything back. */
export interface Staged {
  readonly plans: readonly ListenerPlan[];
  /** By plan key: sockets bound for new addresses and for changed transports. */
  readonly fresh: ReadonlyMap<string, ListenerSlot>;
  /** Running sockets that stopped listening so a fresh one could take their port. */
  readonly rebound: readonly ListenerSlot[];
  readonly policy: ListenPolicy;
}

export interface ListenerChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly rebound: readonly string[];
}

/** The policy for a port a running socket holds: where other threads still listen on it, join them there. */
export const joinAt = (port: number): ListenPolicy => ({ mode: 'join', portFor: () => port });

export class ListenerSet {
  readonly #create: CreateListener;
  readonly #log: Logger;
  readonly #slots = new Map<string, ListenerSlot>();
  /** Sockets no longer listening whose apps still carry connections (removed or re-bound on reload). */
  readonly #draining: ListenerSlot[] = [];

  constructor(create: CreateListener, log: Logger) {
    this.#create = create;
    this.#log = log;
  }

  /** Listeners of the running configuration. */
  get infos(): ListenerInfo[] {
    return [...this.#slots.values()].map((s) => s.info);
  }

  /** The port of the running listener `key`, if any. */
  port(key: string): number | undefined {
    return this.#slots.get(key)?.info.port;
  }

  /**
   * Step one of a reload: binds every plan whose address is new or whose
   * transport (signature) changed; a plan the running socket already serves
   * as it is needs nothing. A changed one hands its port over: the running
   * socket stops listening (its connections stay) and a fresh one binds.
   * Nothing serves the new plans yet. On a failure, everything done so far
   * is undone and the error thrown.
   */
  async stage(plans: readonly ListenerPlan[], idleSecs: number, route: Route, policy: ListenPolicy): Promise<Staged> {
    const fresh = new Map<string, ListenerSlot>();
    const rebound: ListenerSlot[] = [];
    const staged = { plans, fresh, rebound, policy };
    try {
      for (const plan of plans) {
        const old = this.#slots.get(plan.key);
        const signature = transportSignature(plan, idleSecs);
        if (old && old.signature === signature) continue;
        if (old) {
          old.handle.stopListening();
          rebound.push(old);
        }
        // A re-bound port is taken over where the other threads still listen: join it.
        const at = old && policy.mode !== 'alone' ? joinAt(old.info.port) : policy;
        fresh.set(plan.key, await ListenerSlot.open(this.#create, plan, signature, wsOptions(plan, idleSecs), route, at));
      }
    } catch (err) {
      await this.unstage(staged);
      throw err;
    }
    return staged;
  }

  /** Closes what stage() bound and gives the handed-over ports back to the running configuration. */
  async unstage(staged: Staged): Promise<void> {
    for (const s of staged.fresh.values()) s.handle.closeAll();
    const policy = staged.policy;
    for (const old of staged.rebound) {
      await old.relisten(policy.mode === 'alone' ? policy : joinAt(old.info.port)).catch((e: unknown) => this.#log.error({ err: e }, `could not re-listen on ${old.key} after a failed reload`));
    }
  }

  /**
   * Step two, where nothing can fail: the staged plans are served (kept
   * sockets rerouted to them, fresh ones put in place), replaced sockets and
   * those of addresses no longer configured stop listening and drain.
   */
  commit(staged: Staged, route: Route): ListenerChanges {
    const added: string[] = [];
    for (const plan of staged.plans) {
      const old = this.#slots.get(plan.key);
      const slot = staged.fresh.get(plan.key);
      if (!old) added.push(plan.key);
      if (slot) {
        if (old) this.#draining.push(old);
        this.#slots.set(plan.key, slot);
        this.#logListening(slot);
      } else {
        old?.reroute(plan, route);
      }
    }
    const removed: string[] = [];
    for (const [key, slot] of this.#slots) {
      if (staged.plans.some((p) => p.key === key)) continue;
      // A vhost gone from the config stops accepting; its open connections drain.
      slot.handle.stopListening();
      this.#slots.delete(key);
      this.#draining.push(slot);
      removed.push(key);
    }
    return { added, removed, rebound: staged.rebound.map((s) => s.key) };
  }

  /** Each vhost name's TLS port (the first TLS listener serving it), where redirect-http sends plain visitors. */
  tlsPorts(plans: readonly ListenerPlan[]): Map<string, number> {
    const ports = new Map<string, number>();
    for (const plan of plans) {
      const port = plan.tls === undefined ? undefined : this.port(plan.key);
      if (port === undefined) continue;
      for (const v of plan.vhosts) if (!ports.has(v.name.toLowerCase())) ports.set(v.name.toLowerCase(), port);
    }
    return ports;
  }

  /** Stops accepting on every running socket (near the open-file limit); connections stay. */
  pause(): void {
    for (const s of this.#slots.values()) s.handle.stopListening();
  }

  /** The same addresses, on the ports they had (a port left to the system keeps the one it got). */
  async resume(mode: ListenPolicy['mode']): Promise<void> {
    for (const s of this.#slots.values()) {
      const port = s.info.port;
      await s.relisten(mode === 'alone' ? { mode: 'alone', portFor: () => port } : joinAt(port));
    }
  }

  /** Every socket, running or draining, stops accepting. */
  stopListening(): void {
    for (const s of this.#all()) s.handle.stopListening();
  }

  /** Closes every socket and every connection on them at once. */
  closeAll(): void {
    for (const s of this.#all()) s.handle.closeAll();
  }

  /** Removes the socket files of UNIX listeners (after closeAll). */
  removeSocketFiles(): void {
    for (const s of this.#all()) if (s.info.unixPath) fs.rmSync(s.info.unixPath, { force: true });
  }

  #all(): ListenerSlot[] {
    return [...this.#slots.values(), ...this.#draining];
  }

  #logListening(slot: ListenerSlot): void {
    const i = slot.info;
    this.#log.info({ event: 'listening', listener: slot.key, address: i.address, port: i.port, tls: i.tls, vhosts: i.vhosts }, `listening on ${i.tls ? 'https' : 'http'} ${i.address} for ${i.vhosts.join(', ')}`);
  }
}
