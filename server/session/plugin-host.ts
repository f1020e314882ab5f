/**
 * @module A plugin's own state on one vhost (apiVersion 2's plugin `init`): made before its protocols'
 * inits there, handed to the next configuration's at a reload, destroyed after the last of them.
 */
import type { Logger } from 'pino';
import { enter, leave, registerHost, whereOf } from '../base/beacon.ts';
import { SYSTEM_CLOCK, type Clock } from '../base/clock.ts';
import { describeError, tswsError } from '../base/errors.ts';
import type { PluginVhost, ServerView, Timer } from '../plugin/api.ts';
import type { RuntimePlugin } from '../plugin/runtime-protocol.ts';
import type { WritableScheduler } from './scheduler.ts';
import { OwnedTimers } from './timers.ts';

export interface PluginHostDeps {
  readonly log: Logger;
  readonly server: ServerView;
  /** Flushed after the plugin's timers: what they asked for is served at once, as after a protocol's timers. */
  readonly scheduler: WritableScheduler;
  /** What its timers run on (default Node's; tsws/testing's protocol kit gives a manual one). */
  readonly clock?: Clock;
}

type Status = 'new' | 'live' | 'failed' | 'destroyed';

/**
 * Why a count of holders rather than a destroy of its own: the plugin's
 * protocols on a vhost are destroyed one by one, each when its last
 * connection closes after a reload, and their callbacks may use the
 * plugin's state until then. So each protocol host holds it from its init
 * and releases it after its destroy; the last release destroys it, with
 * that destroy's reason. A state no protocol held (every init failed) is
 * destroyed by whoever built it (app/generation.ts).
 */
export class PluginHost implements PluginVhost {
  readonly vhostName: string;
  readonly plugin: string;
  readonly def: RuntimePlugin;
  readonly log: Logger;
  readonly server: ServerView;
  readonly #scheduler: WritableScheduler;
  readonly #where: { readonly init: number; readonly timer: number };
  readonly #timers: OwnedTimers;
  #state: unknown = undefined;
  #status: Status = 'new';
  #holders = 0;
  #failure: string | undefined;

  constructor(vhostName: string, def: RuntimePlugin, deps: PluginHostDeps) {
    this.vhostName = vhostName;
    this.plugin = def.name;
    this.def = def;
    this.log = deps.log.child({ vhost: vhostName, plugin: def.name });
    this.server = deps.server;
    this.#scheduler = deps.scheduler;
    const id = registerHost({ vhost: vhostName, plugin: def.name, protocol: '-' });
    this.#where = { init: whereOf(id, 'init'), timer: whereOf(id, 'timer') };
    this.#timers = new OwnedTimers((fn) => this.#runTimer(fn), deps.clock ?? SYSTEM_CLOCK);
  }

  get state(): unknown {
    return this.#state;
  }

  /** Made, and not destroyed: its protocols may start. */
  get live(): boolean {
    return this.#status === 'live';
  }

  /** Why the plugin's init failed, when it did. */
  get failure(): string | undefined {
    return this.#failure;
  }

  get holders(): number {
    return this.#holders;
  }

  /** The plugin's init, once; `previous` is the replaced configuration's host of the same plugin on the same vhost. */
  init(previous?: PluginHost): boolean {
    const init = this.def.init;
    const outer = enter(this.#where.init);
    try {
      this.#state = init ? init(this, previous?.live ? previous.state : undefined) : undefined;
      this.#status = 'live';
      this.#scheduler.flush();
      return true;
    } catch (err) {
      this.#status = 'failed';
      this.#failure = describeError(err);
      this.#timers.cancelAll();
      this.#fail('init', err);
      return false;
    } finally {
      leave(outer);
    }
  }

  /** A protocol host of this plugin here starts using the state (after the plugin's init succeeded). */
  hold(): void {
    this.#holders++;
  }

  /** That protocol host was destroyed: the last one to go destroys the state. Never rejects. */
  async release(why: 'stop' | 'reload'): Promise<void> {
    if (--this.#holders === 0) await this.destroy(why);
  }

  /** The plugin's destroy, once, after its timers are cancelled. Never rejects. */
  async destroy(why: 'stop' | 'reload'): Promise<void> {
    const wasLive = this.#status === 'live';
    if (this.#status === 'destroyed') return;
    this.#status = 'destroyed';
    this.#timers.cancelAll();
    const destroy = this.def.destroy;
    if (!wasLive || !destroy) return;
    try {
      await destroy(this, why);
    } catch (err) {
      this.#fail('destroy', err);
    }
  }

  setTimeout(ms: number, fn: () => void): Timer {
    return this.#timers.setTimeout(ms, fn);
  }

  setInterval(ms: number, fn: () => void): Timer {
    return this.#timers.setInterval(ms, fn);
  }

  #runTimer(fn: () => void): void {
    const outer = enter(this.#where.timer);
    try {
      fn();
    } catch (err) {
      this.#fail('timer', err);
    } finally {
      leave(outer);
    }
    this.#scheduler.flush();
  }

  #fail(callback: 'init' | 'destroy' | 'timer', err: unknown): void {
    const e = tswsError('TSWS_ERR_PLUGIN_STATE_FAILED', { vhost: this.vhostName, plugin: this.plugin, callback, reason: describeError(err) }, err);
    this.log.error({ err, code: e.code }, e.message);
  }
}
