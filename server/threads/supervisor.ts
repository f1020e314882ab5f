/** @module count-threads: the main thread starts the worker threads, relays signals to them, and replaces one that dies. */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
import type { ListenerInfo } from '../ingress/listeners.ts';
import type { Level } from '../base/log.ts';
import type { ReloadReport } from '../app/server.ts';
import type { Service } from '../app/service.ts';
import { portsOf, type Failure, type FromWorker, type ToWorker, type WorkerSetup } from './messages.ts';
import { Watchdog } from './watchdog.ts';
import { ChannelHost } from './channel-host.ts';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

type Reply = Extract<FromWorker, { id: number }>;

/** One worker thread and its pending requests. */
class WorkerLink {
  readonly index: number;
  readonly worker: Worker;
  readonly #waiting = new Map<number, (m: Reply | undefined) => void>();
  #seq = 0;
  /** Serving (said "ready"): only such a thread answers requests. */
  ready = false;
  exited = false;

  constructor(setup: WorkerSetup, onMessage: (m: FromWorker) => void, onExit: (code: number) => void) {
    this.index = setup.index;
    this.worker = new Worker(ENTRY, { workerData: setup, transferList: setup.channels ? [setup.channels] : [] });
    this.worker.on('message', (m: FromWorker) => {
      if ('id' in m) {
        this.#waiting.get(m.id)?.(m);
        this.#waiting.delete(m.id);
      } else onMessage(m);
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      // Whatever was asked of it will not be answered.
      for (const w of this.#waiting.values()) w(undefined);
      this.#waiting.clear();
      onExit(code);
    });
  }

  /** Resolves with the worker's answer, or undefined if it exits first. */
  ask<T extends Reply>(message: (id: number) => ToWorker): Promise<T | undefined> {
    if (this.exited) return Promise.resolve(undefined);
    const id = ++this.#seq;
    return new Promise((resolve) => {
      this.#waiting.set(id, (m) => resolve(m as T | undefined));
      this.worker.postMessage(message(id));
    });
  }

  tell(message: ToWorker): void {
    if (!this.exited) this.worker.postMessage(message);
  }
}

export interface ThreadsOptions {
  readonly configDir: string;
  readonly dataDir: string | undefined;
  readonly level: Level;
  /** Where the JSON log goes (log.ts separateLogFromNativeOutput). */
  readonly logFd: number;
  readonly count: number;
  /** 0: no watchdog. */
  readonly watchdogSecs: number;
  /** count-threads > 1 without a cluster: this thread holds vhost.channels for all of them (channel-host.ts). */
  readonly sharedChannels?: boolean;
  /** channel-idle-max for the main thread's channels, as configured at start. */
  readonly channelIdleMax?: number;
}

const failed = (what: string, f: Failure | undefined) => tswsError('TSWS_ERR_THREAD', { what, reason: f ? (f.code ? `${f.code}: ${f.message}` : f.message) : 'the thread exited' });

export class ThreadedService implements Service {
  readonly #opts: ThreadsOptions;
  readonly #log: Logger;
  readonly #links: WorkerLink[] = [];
  #listeners: readonly ListenerInfo[] = [];
  #generation = 1;
  #stopping = false;
  readonly #watchdog: Watchdog | undefined;
  readonly #channels: ChannelHost | undefined;

  private constructor(opts: ThreadsOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    this.#channels = opts.sharedChannels ? new ChannelHost(log, opts.channelIdleMax) : undefined;
    this.#watchdog = opts.watchdogSecs > 0 ? new Watchdog(opts.watchdogSecs, log) : undefined;
  }

  /**
   * The lead thread first: it proves every port free and binds the ones the
   * config leaves to the system; then the others join on the same ports.
   * Any thread failing to start stops the ones already running.
   */
  static async start(opts: ThreadsOptions, log: Logger): Promise<ThreadedService> {
    const service = new ThreadedService(opts, log);
    try {
      const lead = await service.#spawn(0, true);
      service.#listeners = lead;
      await Promise.all(Array.from({ length: opts.count - 1 }, (_, i) => service.#spawn(i + 1, false)));
    } catch (err) {
      await service.stop(0);
      // A thread that failed to start may still hold what its plugins opened.
      await Promise.all(service.#links.map((l) => l.worker.terminate()));
      throw err;
    }
    return service;
  }

  get listeners(): readonly ListenerInfo[] {
    return this.#listeners;
  }

  /** Starts thread `index`; resolves with its listeners once it serves. */
  #spawn(index: number, lead: boolean): Promise<readonly ListenerInfo[]> {
    const o = this.#opts;
    const beacon = this.#watchdog ? Watchdog.buffer() : undefined;
    const holder = `thread-${index}`;
    const channels = this.#channels?.connect(holder);
    const setup: WorkerSetup = { configDir: o.configDir, dataDir: o.dataDir, level: o.level, logFd: o.logFd, index, count: o.count, lead, generation: this.#generation, ports: portsOf(this.#listeners), beacon, ...(channels ? { channels } : {}) };
    return new Promise((resolve, reject) => {
      let started = false;
      const link = new WorkerLink(
        setup,
        (m) => {
          if (m.type === 'ready') {
            started = true;
            link.ready = true;
            if (beacon) this.#watchdog?.watch(link.worker, index, beacon);
            resolve(m.listeners);
          } else if (m.type === 'start-failed') reject(failed(`thread ${index} could not start`, m.failure));
        },
        (code) => {
          this.#watchdog?.forget(link.worker);
          // Its connections are gone: so are its presence members, at once, before any replacement starts.
          this.#channels?.disconnect(holder);
          if (!started) return reject(failed(`thread ${index} could not start`, { code: undefined, message: `it exited with code ${code}` }));
          this.#lost(link, code);
        },
      );
      this.#links[index] = link;
    });
  }

  /** A thread died while serving: its connections are gone; a new one takes its place on the same ports. */
  #lost(link: WorkerLink, code: number): void {
    if (this.#stopping || this.#links[link.index] !== link) return;
    this.#log.error({ event: 'thread-exited', thread: link.index, exitCode: code }, `thread ${link.index} exited (code ${code}); starting a new one`);
    this.#spawn(link.index, false).then(
      () => this.#log.info({ event: 'thread-replaced', thread: link.index }, `thread ${link.index} serving again`),
      (err: unknown) => this.#log.error({ err, event: 'thread-replace-failed', thread: link.index }, `thread ${link.index} could not be replaced: ${(err as Error).message}; the other threads go on serving`),
    );
  }

  #live(): WorkerLink[] {
    return this.#links.filter((l) => l.ready && !l.exited);
  }

  /** The first live thread reloads first (its new ports are the ones the others join), then the rest together. */
  async apply(_prepared: unknown, generation: number): Promise<ReloadReport> {
    this.#generation = generation;
    const [first, ...rest] = this.#live();
    if (!first) throw failed('reload', undefined);
    const reload = (link: WorkerLink, ports: Record<string, number>) =>
      link.ask<Extract<Reply, { type: 'reloaded' | 'reload-failed' }>>((id) => ({ type: 'reload', id, generation, ports }));
    const lead = await reload(first, portsOf(this.#listeners));
    if (lead?.type !== 'reloaded') {
      for (const l of rest) l.tell({ type: 'refused' });
      throw failed(`thread ${first.index} refused the reload`, lead?.failure);
    }
    this.#listeners = lead.listeners;
    const others = await Promise.all(rest.map((l) => reload(l, portsOf(lead.listeners))));
    others.forEach((r, i) => {
      // The lead serves the new configuration already: a thread left on the old one is said, not hidden.
      if (r?.type !== 'reloaded') this.#log.error({ event: 'thread-reload-failed', thread: rest[i]?.index, reason: r?.failure }, `thread ${rest[i]?.index} kept the previous configuration: ${r?.failure.message ?? 'it exited'}`);
    });
    return lead.report;
  }

  refused(): void {
    for (const l of this.#live()) l.tell({ type: 'refused' });
  }

  async stop(graceMs: number): Promise<{ cut: number }> {
    this.#stopping = true;
    const answers = await Promise.all(this.#live().map((l) => l.ask<Extract<Reply, { type: 'stopped' }>>((id) => ({ type: 'stop', id, graceMs }))));
    this.#channels?.close();
    return { cut: answers.reduce((n, a) => n + (a?.cut ?? 0), 0) };
  }

  /** Every thread closes its sockets now; one stuck in a loop past a second is left to the exit. */
  async abandon(): Promise<void> {
    const asked = Promise.all(this.#live().map((l) => l.ask((id) => ({ type: 'abandon', id }))));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      void asked.then(() => (clearTimeout(timer), resolve()));
    });
  }

  async reopenLogs(): Promise<Error[]> {
    const answers = await Promise.all(this.#live().map((l) => l.ask<Extract<Reply, { type: 'reopened' }>>((id) => ({ type: 'reopen', id }))));
    // Every thread has the same files open: one report per file is enough.
    const seen = new Map<string, Error>();
    for (const a of answers) for (const f of a?.failures ?? []) seen.set(f.message, Object.assign(new Error(f.message), { code: f.code }));
    return [...seen.values()];
  }
}
