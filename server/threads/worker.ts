/** @module count-threads: one worker thread, a whole server (its own plugins, event loop and connections) on ports shared with the others. */
import { parentPort, workerData } from 'node:worker_threads';
import type { TswsError } from '../base/errors.ts';
import type { ListenPolicy } from '../ingress/listeners.ts';
import { tswsError } from '../base/errors.ts';
import { createLogger } from '../base/log.ts';
import { prepare, type PrepareResult } from '../app/prepare.ts';
import { LocalService } from '../app/service.ts';
import { failureOf, type Failure, type FromWorker, type ToWorker, type WorkerSetup } from './messages.ts';
import { ThreadMetricsMesh } from './metrics-mesh.ts';
import { ThreadBus } from './thread-bus.ts';
import { ThreadChannelStore } from '../channels/thread-store.ts';
import { attachBeacon, BEAT_MS, type Beacon } from '../base/beacon.ts';
import { CallbackRunner } from '../session/invoke.ts';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('server/threads/worker.ts runs as a worker thread only');
const tell = (m: FromWorker) => port.postMessage(m);

// Synchronous: nothing logs per message, and no line may be lost when the process exits after a stop.
const log = createLogger(setup.level, setup.logFd, undefined, true).child({ thread: setup.index });
// A plugin's exception must never take the thread down (main.ts does the same alone).
process.on('uncaughtException', (err) => log.error({ err, event: 'uncaught-exception' }, `uncaught exception: ${err.message}`));
process.on('unhandledRejection', (reason) => log.error({ err: reason, event: 'unhandled-rejection' }, `unhandled rejection: ${String(reason)}`));

let ports = new Map(Object.entries(setup.ports));
const listen: ListenPolicy = { mode: setup.lead ? 'lead' : 'join', portFor: (key) => ports.get(key) };

/** The main thread logged the findings already; here an invalid config is one failure naming the first error. */
function load(generation: number): Promise<PrepareResult> {
  return prepare({ configDir: setup.configDir, generation, ...(setup.dataDir ? { dataDir: setup.dataDir } : {}) });
}

const invalid = (result: PrepareResult): Failure => {
  const first = result.errors[0] as TswsError | undefined;
  return { code: first?.code, message: `${result.errors.length} error(s) in the configuration, the first: ${first?.message ?? 'unknown'}` };
};

/** The watchdog's view of this thread, when it is watched. */
let beacon: Beacon | undefined;

async function start(): Promise<LocalService | undefined> {
  const result = await load(setup.generation);
  if (!result.prepared) {
    tell({ type: 'start-failed', failure: invalid(result) });
    return undefined;
  }
  const mesh = new ThreadMetricsMesh('tsws:metrics', setup.index, setup.count);
  try {
    // Alone in its cluster, a thread is an instance of its own; else the threads' channel carries the broadcasts.
    const service = await LocalService.start(result.prepared, log, {
      thread: { index: setup.index, count: setup.count, listen, metrics: mesh },
      ...(result.prepared.config.global.cluster || setup.count === 1 ? {} : { bus: new ThreadBus('tsws:bus') }),
      // The main thread holds the channels for every thread (it gave the port only then: count-threads > 1, no cluster).
      ...(setup.channels && !result.prepared.config.global.cluster ? { channelStore: new ThreadChannelStore(setup.channels) } : {}),
      // One serving thread (the watchdog's) is the instance itself: its id stays as configured.
    }, setup.count === 1 ? '' : `-t${setup.index}`);
    if (setup.beacon) {
      const state = service.server.state;
      beacon = attachBeacon(setup.beacon, BEAT_MS, (what) => {
        state.watchdogInterrupts++;
        const e = tswsError('TSWS_ERR_WATCHDOG_INTERRUPTED', { thread: setup.index, ...what });
        // The connection (or request) whose callback was cut is ended (1011, or 500), not left deaf.
        const ended = CallbackRunner.recoverInterrupted(e);
        log.error({ code: e.code, event: 'watchdog-interrupted', vhost: what.vhost, plugin: what.plugin, protocol: what.protocol, callback: what.callback, heldMs: what.ms, ended }, e.message);
      });
    }
    tell({ type: 'ready', listeners: service.listeners });
    return service;
  } catch (err) {
    mesh.close();
    tell({ type: 'start-failed', failure: failureOf(err) });
    return undefined;
  }
}

const service = await start();
if (service) {
  port.on('message', (m: ToWorker) => {
    // An interruption is reported (and its connection ended) before a stop can end the thread.
    beacon?.check();
    void handle(service, m);
  });
}

async function handle(s: LocalService, m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'reload': {
      const result = await load(m.generation);
      if (!result.prepared) {
        s.refused();
        return tell({ type: 'reload-failed', id: m.id, failure: invalid(result) });
      }
      ports = new Map(Object.entries(m.ports));
      try {
        const report = await s.apply(result.prepared);
        return tell({ type: 'reloaded', id: m.id, report, listeners: s.listeners });
      } catch (err) {
        return tell({ type: 'reload-failed', id: m.id, failure: failureOf(err) });
      }
    }
    case 'refused':
      return s.refused();
    case 'stop': {
      const { cut } = await s.stop(m.graceMs);
      // The log is asynchronous: its last lines (a destroy's) are written before the main
      // thread, told "stopped", exits the process.
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      return tell({ type: 'stopped', id: m.id, cut });
    }
    case 'abandon':
      s.abandon();
      return tell({ type: 'abandoned', id: m.id });
    case 'reopen': {
      const failed = await s.reopenLogs();
      return tell({ type: 'reopened', id: m.id, failures: failed.map(failureOf) });
    }
  }
}
