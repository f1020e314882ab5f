/** @module Per-vhost access logs in lwsws's (NCSA combined) format, buffered, reopenable for logrotate. */
import pino from 'pino';
import { describeError, tswsError } from '../base/errors.ts';

type Destination = ReturnType<typeof pino.destination>;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

let cachedSecond = -1;
let cachedDate = '';

/** dd/Mon/YYYY:HH:MM:SS +zzzz in local time, formatted once per second. */
export function logDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second === cachedSecond) return cachedDate;
  const d = new Date(second * 1000);
  const off = -d.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  cachedDate = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
  cachedSecond = second;
  return cachedDate;
}

export interface AccessRecord {
  readonly peer: string;
  readonly method: string;
  /** Path and query as requested; for websocket upgrades "<path> (<protocol>)". */
  readonly uri: string;
  readonly status: number;
  readonly bytes: number;
  readonly referer: string;
  readonly userAgent: string;
}

/** Quotes inside fields are escaped so a hostile User-Agent cannot forge fields. */
const NEEDS_CLEANING = /[\\"\x00-\x1f\x7f]/;
const clean = (s: string) =>
  // Nearly every field is clean: one test instead of two replace passes per field and request.
  NEEDS_CLEANING.test(s) ? s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, '?') : s;

export function formatAccessLine(r: AccessRecord, now = Date.now()): string {
  return `${r.peer} - - [${logDate(now)}] "${r.method} ${clean(r.uri)} HTTP/1.1" ${r.status} ${r.bytes} "${clean(r.referer)}" "${clean(r.userAgent)}"\n`;
}

export class AccessLog {
  readonly path: string;
  readonly #out: Destination;

  constructor(path: string) {
    this.path = path;
    // Buffered: one write syscall per 4 KiB of lines, not one per request.
    // 0600 as lws creates it: the log names every client's address. An existing file keeps its mode.
    this.#out = pino.destination({ dest: path, mkdir: true, append: true, minLength: 4096, sync: false, mode: 0o600 });
  }

  /** Resolves once the file is open; rejects with the file named when it cannot be. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const out = this.#out as unknown as { fd: number; once(ev: string, cb: (err?: Error) => void): void };
      if (out.fd >= 0) return resolve();
      out.once('ready', () => resolve());
      out.once('error', (err) => reject(tswsError('TSWS_ERR_ACCESS_LOG', { file: this.path, reason: describeError(err) }, err)));
    });
  }

  write(r: AccessRecord): void {
    this.#out.write(formatAccessLine(r));
  }

  /**
   * After logrotate moved the file away (SIGUSR1). Lines buffered before the
   * signal go to the old file first: they belong to the rotated period.
   * Resolves with the error when the file cannot be opened again.
   */
  reopen(): Promise<Error | undefined> {
    const out = this.#out;
    return new Promise((resolve) => {
      out.flush(() => {
        const done = (err?: Error) => {
          out.off('ready', done);
          out.off('error', done);
          resolve(err ? tswsError('TSWS_ERR_ACCESS_LOG', { file: this.path, reason: describeError(err) }, err) : undefined);
        };
        out.once('ready', done);
        out.once('error', done);
        out.reopen();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#out.once('close', () => resolve());
      this.#out.once('error', () => resolve());
      this.#out.end();
    });
  }
}

/** One AccessLog per file, however many vhosts share it. */
export class AccessLogs {
  readonly #logs = new Map<string, AccessLog>();

  open(path: string): AccessLog {
    let log = this.#logs.get(path);
    if (!log) {
      log = new AccessLog(path);
      this.#logs.set(path, log);
    }
    return log;
  }

  async ready(): Promise<void> {
    await Promise.all([...this.#logs.values()].map((l) => l.ready()));
  }

  /** Resolves with the logs that could not be reopened (they keep writing to the old file). */
  async reopenAll(): Promise<Error[]> {
    const results = await Promise.all([...this.#logs.values()].map((l) => l.reopen()));
    return results.filter((e) => e !== undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#logs.values()].map((l) => l.close()));
    this.#logs.clear();
  }
}
