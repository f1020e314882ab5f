/** @module A handler the broker runs itself: requests on its stdin, replies on its stdout, restarted with backoff when it dies. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { Timer } from '../../server/plugin/api.ts';
// The client connections' reconnect delays (capped, equal jitter) are the restart policy wanted here too.
import { Backoff } from '../../server/session/client/backoff.ts';
import { LineReader, MAX_LINE_BYTES } from './handler-wire.ts';
import type { ChannelEvents, LineChannel } from './unix-channel.ts';

/** A process that ran this long before dying was healthy: its next restart starts the backoff over. */
const STABLE_MS = 10_000;
/** At destroy, a handler has this long to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;
/** Stderr lines logged per process run, so a handler printing in a loop cannot flood the log. */
const MAX_STDERR_LINES = 200;

interface Run {
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** False once the stream broke its framing: its lines are ignored while it is killed. */
  trusted: boolean;
  readonly exited: Promise<void>;
}

export interface ProcessChannelDeps {
  readonly log: Logger;
  /** Framework timers: a pending restart is cancelled with the vhost. */
  setTimeout(ms: number, fn: () => void): Timer;
}

/**
 * Restart policy: whenever the process ends (crash, kill, exit, a framing
 * violation that made the broker kill it), requests in flight fail with
 * `handler-down` at once and a new process starts after a backoff delay
 * (200 ms doubling to 10 s, with jitter), reset once a run lasted 10 s.
 * Requests while no process runs fail at once rather than queue. Each
 * process runs in its own process group (a shell handler's children die
 * with it) and is expected to exit when its stdin closes, which is what
 * happens to every handler if tsws itself is killed.
 *
 * The first process starts with the first message for it, not at init:
 * tsws drops privileges only after every init, and a handler started before
 * would keep root for good. (The command was checked at init: a missing one
 * is an init error, not a surprise at the first message.)
 */
export class ProcessChannel implements LineChannel {
  readonly #argv: readonly string[];
  readonly #events: ChannelEvents;
  readonly #deps: ProcessChannelDeps;
  readonly #backoff = new Backoff({ firstMs: 200, maxMs: 10_000, jitter: 0.5 });
  #run: Run | undefined;
  #restart: Timer | undefined;
  #restartAt = 0;
  #started = false;
  #stopped = false;
  /** Set when spawning threw: nothing will change that until the config does. */
  #fatal: string | undefined;

  constructor(argv: readonly string[], events: ChannelEvents, deps: ProcessChannelDeps) {
    this.#argv = argv;
    this.#events = events;
    this.#deps = deps;
  }

  get backlog(): number {
    return this.#run?.child.stdin?.writableLength ?? 0;
  }

  start(): void {
    if (this.#stopped || this.#run || this.#fatal !== undefined) return;
    this.#started = true;
    const [command = '', ...args] = this.#argv;
    const log = this.#deps.log;
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      // Node throws here only for arguments it refuses outright; it will not do better next time.
      this.#fatal = `it cannot be started: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ err, command: this.#argv.join(' ') }, 'broker: handler cannot be started at all');
      return;
    }
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      let done = false;
      const end = (how: string) => {
        if (done) return;
        done = true;
        resolve();
        this.#ended(run, how);
      };
      child.once('error', (err) => {
        spawnError = err;
        // A process that never started gets no 'close' on every Node version: end it here.
        if (child.pid === undefined) end(`cannot start: ${err.message}`);
      });
      child.once('close', (code, signal) => end(spawnError ? `failed: ${spawnError.message}` : signal ? `killed by ${signal}` : `exited with code ${code}`));
    });
    const run: Run = { child, startedAt: Date.now(), trusted: true, exited };
    this.#run = run;
    const reader = new LineReader(
      MAX_LINE_BYTES,
      (l) => this.#run === run && run.trusted && this.#events.line(l),
      () => this.#run === run && run.trusted && this.#events.tooLong(),
    );
    child.stdout?.on('data', (chunk: Buffer) => reader.push(chunk));
    let stderrLines = 0;
    const errReader = new LineReader(64 * 1024, (line) => {
      if (++stderrLines <= MAX_STDERR_LINES) log.warn({ handlerPid: child.pid, stderr: line.slice(0, 1000) }, 'broker: handler stderr');
    }, () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => errReader.push(chunk));
    // Writing to a handler that just died fails with EPIPE; its 'close' reports the death.
    child.stdin?.on('error', () => undefined);
    if (child.pid !== undefined) log.info({ handlerPid: child.pid, command: this.#argv.join(' ') }, 'broker: handler started');
  }

  async send(line: string): Promise<string | undefined> {
    if (!this.#started) this.start();
    const run = this.#run;
    if (this.#stopped) return 'the broker is stopping';
    if (this.#fatal !== undefined) return this.#fatal;
    if (!run || !run.trusted || !run.child.stdin?.writable) {
      const inMs = Math.max(0, this.#restartAt - Date.now());
      return `the handler is not running (restarting${this.#restart ? ` in ${inMs} ms` : ''})`;
    }
    run.child.stdin.write(line);
    return undefined;
  }

  reset(why: string): void {
    const run = this.#run;
    if (!run || !run.trusted) return;
    run.trusted = false;
    this.#deps.log.warn({ handlerPid: run.child.pid, why }, 'broker: killing a handler that broke the framing');
    killGroup(run.child, 'SIGKILL');
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#restart?.cancel();
    this.#restart = undefined;
    const run = this.#run;
    if (!run) return;
    killGroup(run.child, 'SIGTERM');
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([run.exited, new Promise<void>((r) => (grace = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(grace);
    killGroup(run.child, 'SIGKILL');
  }

  #ended(run: Run, how: string): void {
    if (this.#run !== run) return;
    this.#run = undefined;
    this.#events.lost(`the handler ${how}`);
    if (this.#stopped) return;
    if (Date.now() - run.startedAt >= STABLE_MS) this.#backoff.reset();
    const delay = this.#backoff.next();
    this.#restartAt = Date.now() + delay;
    this.#deps.log.warn({ handlerPid: run.child.pid, command: this.#argv.join(' '), how, attempt: this.#backoff.attempt, restartInMs: delay }, `broker: handler ${how}; restarting`);
    this.#restart = this.#deps.setTimeout(delay, () => {
      this.#restart = undefined;
      this.start();
    });
  }
}

/** Signals the handler's whole process group; one that is gone already is fine. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
