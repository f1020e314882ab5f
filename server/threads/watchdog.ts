/** @module The watchdog: the main thread (which runs no plugin code) interrupts a serving thread held too long by one callback. */
import inspector from 'node:inspector';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { BEAT, CELLS, HELD_MS, INTERRUPTS } from '../base/beacon.ts';

interface Watched {
  readonly index: number;
  readonly threadId: number;
  readonly cells: Int32Array;
  lastBeat: number;
  since: number;
}

/**
 * Why interrupt, not replace: tearing a worker down (terminate()) while
 * uWS.js still has sockets in its loop aborts the whole process (Node's
 * "uv_loop_close() while having open handles"), and a blocked thread cannot
 * close them first. V8's TerminateExecution, sent through the inspector's
 * NodeWorker domain, unwinds the running callback instead; the thread's
 * event loop, its sockets and its other connections carry on. A thread
 * still silent a whole period after that (stuck in native code, where
 * termination cannot reach) is left to the exit paths; the log says so.
 *
 * The main thread's own inspector session is in-process: no port opens.
 */
export class Watchdog {
  readonly #limitMs: number;
  readonly #log: Logger;
  readonly #session = new inspector.Session();
  readonly #watched = new Map<Worker, Watched>();
  /** Inspector sessions of the worker threads, by thread id; a thread attaches when it starts, before it is watched. */
  readonly #sessions = new Map<number, string>();
  readonly #timer: NodeJS.Timeout;
  #seq = 0;

  constructor(limitSecs: number, log: Logger) {
    this.#limitMs = limitSecs * 1000;
    this.#log = log;
    this.#session.connect();
    this.#session.on('NodeWorker.attachedToWorker', (m) => {
      const { sessionId, workerInfo } = m.params as { sessionId: string; workerInfo: { workerId: string } };
      this.#sessions.set(Number(workerInfo.workerId), sessionId);
    });
    this.#session.on('NodeWorker.detachedFromWorker', (m) => {
      const { sessionId } = m.params as { sessionId: string };
      for (const [id, s] of this.#sessions) if (s === sessionId) this.#sessions.delete(id);
    });
    this.#session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    this.#timer = setInterval(() => this.#check(), Math.min(1000, Math.max(100, this.#limitMs / 4)));
    this.#timer.unref();
  }

  /** A buffer for a new serving thread's beacon (server/base/beacon.ts); `watch` it once the thread exists. */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT);
  }

  /** From the thread's "ready": start-up may hold a loop for long (imports, TypeScript), serving may not. */
  watch(worker: Worker, index: number, buffer: SharedArrayBuffer): void {
    this.#watched.set(worker, { index, threadId: worker.threadId, cells: new Int32Array(buffer), lastBeat: -1, since: Date.now() });
  }

  forget(worker: Worker): void {
    this.#watched.delete(worker);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#session.disconnect();
  }

  #check(): void {
    const now = Date.now();
    for (const w of this.#watched.values()) {
      const beat = Atomics.load(w.cells, BEAT);
      if (beat !== w.lastBeat) {
        w.lastBeat = beat;
        w.since = now;
        continue;
      }
      const held = now - w.since;
      if (held < this.#limitMs) continue;
      // Once per period: a thread that does not come back is said again, not flooded.
      w.since = now;
      this.#interrupt(w, held);
    }
  }

  #interrupt(w: Watched, held: number): void {
    const sessionId = this.#sessions.get(w.threadId);
    if (!sessionId) {
      this.#log.error({ event: 'watchdog-unreachable', thread: w.index, heldMs: held }, `watchdog: thread ${w.index} held for ${held} ms and not reachable to interrupt`);
      return;
    }
    Atomics.store(w.cells, HELD_MS, held);
    // The serving thread logs the coded line itself once it runs again (it knows the names); this counts it.
    Atomics.add(w.cells, INTERRUPTS, 1);
    const message = JSON.stringify({ id: ++this.#seq, method: 'Runtime.terminateExecution' });
    this.#session.post('NodeWorker.sendMessageToWorker', { sessionId, message });
    this.#log.warn({ event: 'watchdog-interrupt', thread: w.index, heldMs: held }, `watchdog: interrupting thread ${w.index}, held for ${held} ms`);
  }
}
