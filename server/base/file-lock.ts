/** @module One process at a time per file: an O_EXCL lock file beside it holding the holder's pid; a lock whose process is gone is taken over. */
import fs from 'node:fs';
import { describeError, tswsError } from './errors.ts';

export interface FileLock {
  /** The lock file: `<target>.lock`. */
  readonly file: string;
  /** Removes the lock file (only while it is still ours). */
  release(): void;
}

/** Lock files this process holds: a second lock of one of them is refused; a check of one is fine. */
const held = new Set<string>();

const lockPath = (target: string) => `${target}.lock`;

/** The pid written in a lock file, or undefined when it is unreadable or garbled (a crash while writing it). */
function readHolder(lock: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lock, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** EPERM means the process exists under another user: alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who holds `target` other than this process: the pid, or undefined when
 * nobody does (no lock file, or a stale one). Our own pid in a lock we do not
 * hold is stale too: in a container the server is often pid 1 every time.
 */
export function lockHolder(target: string): number | undefined {
  const lock = lockPath(target);
  if (held.has(lock) || !fs.existsSync(lock)) return undefined;
  const pid = readHolder(lock);
  if (pid === undefined || pid === process.pid || !isAlive(pid)) return undefined;
  return pid;
}

/** Throws TSWS_ERR_FILE_LOCKED when another live process holds `target` (for --check: nothing is taken). */
export function checkLock(target: string): void {
  const pid = lockHolder(target);
  if (pid !== undefined) throw tswsError('TSWS_ERR_FILE_LOCKED', { file: target, lock: lockPath(target), pid });
}

/**
 * Locks `target` for this process, or throws TSWS_ERR_FILE_LOCKED naming the
 * live holder. Stale policy: a lock file whose pid no longer runs (or that
 * holds no pid) is removed and the lock taken again, once. Two processes
 * taking over one stale lock at the same instant can both win; only a crash
 * leaves a stale lock, so that race needs a crash and two starts together.
 * Pids are per host (per pid namespace): the lock does not guard a log-dir
 * shared between machines or containers.
 */
export function lockFile(target: string): FileLock {
  const lock = lockPath(target);
  if (held.has(lock)) throw tswsError('TSWS_ERR_FILE_LOCKED', { file: target, lock, pid: process.pid });
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(lock, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw tswsError('TSWS_ERR_FILE_LOCK_IO', { lock, reason: describeError(err) }, err);
      const pid = readHolder(lock);
      if (pid !== undefined && pid !== process.pid && isAlive(pid)) throw tswsError('TSWS_ERR_FILE_LOCKED', { file: target, lock, pid });
      if (attempt > 0) throw tswsError('TSWS_ERR_FILE_LOCK_IO', { lock, reason: 'a stale lock came back while it was being taken over' });
      fs.rmSync(lock, { force: true });
      continue;
    }
    try {
      fs.writeSync(fd, `${process.pid}\n`);
    } finally {
      fs.closeSync(fd);
    }
    held.add(lock);
    return {
      file: lock,
      release() {
        if (!held.delete(lock)) return;
        if (readHolder(lock) === process.pid) fs.rmSync(lock, { force: true });
      },
    };
  }
}
