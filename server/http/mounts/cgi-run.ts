/** @module One run of a CGI script: spawn, body to stdin, header block and body from stdout, stderr to the log, the no-progress timeout. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';
import { describeError, tswsError, type TswsError } from '../../base/errors.ts';
import { refuseBody } from '../body-refusal.ts';
import { CgiHeadParser, type CgiHead } from './cgi-headers.ts';
import type { HttpExchange, UnreadBody } from '../exchange.ts';
import type { RequestBody } from '../request-body.ts';
import { ResponseStream, sendHead } from '../response-stream.ts';

/** stderr lines logged per request; a script that floods stderr cannot flood the log. */
const MAX_STDERR_LINES = 200;
/** Longest stderr line logged whole. */
const MAX_STDERR_LINE = 2000;

export function failScript(ex: HttpExchange, script: string, reason: string, log: Logger, cause?: unknown, unread?: UnreadBody): void {
  const e = tswsError('TSWS_ERR_CGI_SCRIPT', { vhost: ex.vhost.name, script, reason }, cause);
  log.error({ code: e.code, vhost: ex.vhost.name }, e.message);
  ex.sendStatus(e.httpStatus ?? 500, 'The script could not be run.', [], { unread });
}

/**
 * One script run. The timeout counts time without progress: any bytes
 * into stdin or out of stdout restart it, and it is stopped while the
 * client's slowness holds stdout paused (that is not the script's fault).
 * It runs again when stdin is full at the same time: a script that writes
 * more than the client takes before reading its input is stuck for good
 * (the upload pauses the client's socket, which the response then waits
 * for), and is killed rather than kept forever.
 */
export class CgiRun {
  readonly #ex: HttpExchange;
  readonly #script: string;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #child: ChildProcess | undefined;
  readonly #parser = new CgiHeadParser();
  #stream: ResponseStream | undefined;
  /** HEAD: the headers went out; the rest of stdout is read and dropped. */
  #discard = false;
  #timer: NodeJS.Timeout | undefined;
  /** The timer ran out; the script is killed unless the next read shows progress. */
  #overdue = false;
  #outPaused = false;
  #inPaused = false;
  /** Exited and every pipe closed: nothing left to time. */
  #closed = false;
  #exitStatus: string | undefined;
  #stderrLines = 0;
  #input: RequestBody | undefined;

  /** The script's working directory ("cgi-chdir"); its own directory when not set. */
  readonly #cwd: string;

  constructor(ex: HttpExchange, script: string, timeoutSecs: number, log: Logger, cwd?: string) {
    this.#cwd = cwd ?? path.dirname(script);
    this.#ex = ex;
    this.#script = script;
    this.#timeoutMs = timeoutSecs * 1000;
    this.#log = log;
  }

  start(env: Record<string, string>, input: RequestBody | Buffer): void {
    if (this.#ex.aborted) return;
    if (!Buffer.isBuffer(input)) this.#input = input;
    let child: ChildProcess;
    try {
      // Its own process group, so a timeout or an abort also kills whatever the script started.
      child = spawn(this.#script, [], { cwd: this.#cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      return failScript(this.#ex, this.#script, describeError(err), this.#log, err);
    }
    this.#child = child;
    child.on('error', (err) => {
      // spawn failures (EACCES, ENOENT: the script changed since the check) arrive here.
      this.kill();
      if (!this.#responded) failScript(this.#ex, this.#script, describeError(err), this.#log, err, this.#input);
    });
    child.on('exit', (code, signal) => {
      this.#exitStatus = signal ? `killed by ${signal}` : `exit status ${code}`;
    });
    child.on('close', () => {
      this.#closed = true;
      this.#stopTimer();
    });
    this.#pipeStdin(child, input);
    this.#readStdout(child);
    this.#readStderr(child);
    this.#touch();
  }

  /**
   * Kills the script and everything in its process group, including what it
   * left running after it exited itself (still holding stdout, say). Not
   * once everything closed: the group id could belong to someone else by then.
   */
  kill(): void {
    this.#stopTimer();
    const pid = this.#child?.pid;
    if (pid === undefined || this.#closed) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }

  get #responded(): boolean {
    return this.#stream !== undefined || this.#discard || this.#ex.done || this.#ex.aborted;
  }

  #pipeStdin(child: ChildProcess, input: RequestBody | Buffer): void {
    const stdin = child.stdin;
    if (!stdin) return;
    // A script that exits without reading its input makes writes fail with EPIPE: not an error of ours.
    stdin.on('error', () => undefined);
    if (Buffer.isBuffer(input)) {
      stdin.end(input);
      return;
    }
    let gone = false;
    stdin.once('close', () => {
      gone = true;
      input.resume(); // keep draining the upload so the connection stays usable
    });
    input.consume({
      chunk: (c) => {
        if (gone) return;
        this.#touch();
        if (!stdin.write(c)) {
          input.pause();
          this.#inPaused = true;
          this.#touch(false);
          stdin.once('drain', () => {
            this.#inPaused = false;
            this.#touch();
            input.resume();
          });
        }
      },
      end: () => stdin.end(),
      // Only reachable if the client sends more than its Content-Length, which uWS.js does not allow; kept for safety.
      tooLarge: (received) => {
        this.kill();
        refuseBody(this.#ex, { ok: false, status: 413, detail: `the body passed ${received} bytes` }, input.limit, this.#log, input);
      },
    });
  }

  #readStdout(child: ChildProcess): void {
    const stdout = child.stdout;
    if (!stdout) return;
    stdout.on('data', (chunk: Buffer) => {
      this.#touch();
      if (this.#stream) return this.#stream.write(chunk);
      if (this.#discard || this.#ex.done || this.#ex.aborted) return;
      const step = this.#parser.feed(chunk);
      if (step.kind === 'error') return this.#badResponse(step.detail);
      if (step.kind === 'head') this.#respond(step.head, step.body, false);
    });
    stdout.on('end', () => {
      if (this.#stream) return this.#stream.end();
      if (this.#responded) return;
      const step = this.#parser.finish();
      if (step.kind === 'head') this.#respond(step.head, step.body, true);
      else if (step.kind === 'error') this.#badResponse(step.detail);
    });
  }

  #respond(head: CgiHead, body: Buffer, ended: boolean): void {
    const ex = this.#ex;
    if (ex.isHead) {
      this.#discard = true;
      return sendHead(ex, head.status, head.headers, head.contentLength);
    }
    const stdout = this.#child?.stdout;
    const stream = new ResponseStream(ex, head.status, head.headers, head.contentLength, {
      pause: () => {
        this.#outPaused = true;
        this.#touch(false);
        stdout?.pause();
      },
      resume: () => {
        this.#outPaused = false;
        this.#touch();
        stdout?.resume();
      },
    });
    this.#stream = stream;
    stream.write(body);
    if (ended) stream.end();
  }

  #badResponse(detail: string): void {
    this.kill();
    // Give the exit status when we have it: "exit status 127" often says more than the output.
    const status = this.#exitStatus ? ` (${this.#exitStatus})` : '';
    const e = tswsError('TSWS_ERR_CGI_BAD_RESPONSE', { vhost: this.#ex.vhost.name, script: this.#script, detail: `${detail}${status}` });
    this.#log.error({ code: e.code, vhost: this.#ex.vhost.name }, e.message);
    this.#ex.sendStatus(e.httpStatus ?? 500, 'The script failed.', [], { unread: this.#input });
  }

  #readStderr(child: ChildProcess): void {
    const stderr = child.stderr;
    if (!stderr) return;
    let partial = '';
    const emit = (line: string) => {
      if (line === '' || ++this.#stderrLines > MAX_STDERR_LINES) return;
      const text = this.#stderrLines === MAX_STDERR_LINES ? `${line} [further stderr output of this run is not logged]` : line;
      const e: TswsError = tswsError('TSWS_WARN_CGI_STDERR', {
        vhost: this.#ex.vhost.name,
        script: this.#script,
        pid: child.pid ?? 0,
        line: text.length > MAX_STDERR_LINE ? `${text.slice(0, MAX_STDERR_LINE)}...` : text,
      });
      this.#log.warn({ code: e.code, vhost: this.#ex.vhost.name }, e.detail);
    };
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) emit(l.replace(/\r$/, ''));
      if (partial.length > MAX_STDERR_LINE) {
        emit(partial);
        partial = '';
      }
    });
    stderr.on('end', () => emit(partial));
  }

  /**
   * Progress (or, with `progress` false, a change of who waits for whom):
   * (re)start the no-progress timer, or stop it while only the client holds
   * the script back.
   */
  #touch(progress = true): void {
    if (this.#closed || (this.#outPaused && !this.#inPaused)) return this.#stopTimer();
    if (progress) this.#overdue = false;
    if (!this.#timer) {
      if (!this.#overdue) this.#timer = setTimeout(() => this.#expired(), this.#timeoutMs);
    } else if (progress) this.#timer.refresh();
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#overdue = false;
  }

  /**
   * Timers run before the event loop reads the pipes: after a stall of this
   * loop (a GC, a busy plugin, a starved machine) output the script wrote in
   * time may still be unread. Decide after the next read, in the check phase.
   */
  #expired(): void {
    this.#timer = undefined;
    this.#overdue = true;
    setImmediate(() => {
      if (this.#overdue) this.#timedOut();
    });
  }

  #timedOut(): void {
    this.kill();
    const e = tswsError('TSWS_ERR_CGI_TIMEOUT', { vhost: this.#ex.vhost.name, script: this.#script, seconds: this.#timeoutMs / 1000 });
    this.#log.error({ code: e.code, vhost: this.#ex.vhost.name }, e.message);
    if (this.#stream) this.#stream.cut();
    else if (!this.#responded) this.#ex.sendStatus(e.httpStatus ?? 504, 'The script did not answer in time.', [], { unread: this.#input });
  }
}
