/** @module The application logger: pino JSON lines on stdout, pretty when stdout is a terminal. */
import fs from 'node:fs';
import tty from 'node:tty';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type Level = (typeof LEVELS)[number];
/** Start, stop, reload and listener lines, without per-request noise: the config's "log-level" default, and the level before a config is read. */
export const DEFAULT_LEVEL: Level = 'info';

/**
 * lwsws's -d takes a bitmask of lws log levels (ERR 1, WARN 2, NOTICE 4,
 * INFO 8, DEBUG 16, ...); the highest bit set picks the pino level. A pino
 * level name is accepted too.
 */
export function parseLogLevel(value: string): Level | undefined {
  const v = value.trim().toLowerCase();
  if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  if (!/^\d+$/.test(v)) return undefined;
  const mask = Number.parseInt(v, 10);
  if (mask & ~0x1f) return 'trace';
  if (mask & 16) return 'trace';
  if (mask & 8) return 'debug';
  if (mask & 4) return 'info';
  if (mask & 2) return 'warn';
  if (mask & 1) return 'error';
  return 'silent';
}

/**
 * The log's own descriptor for stdout, with descriptor 1 pointed at stderr.
 *
 * Why: uWS.js's native code prints lines of its own on descriptor 1 when a
 * TLS listener routes by SNI name ("finding <name>", "Browsed to SNI:
 * <name>", App.h / uSockets), and nothing in JS can silence them. They would
 * land between the JSON log lines. So, once at start and before anything
 * else writes: the log reopens stdout through /proc/self/fd/1 (the same
 * pipe, file or terminal, on a descriptor of its own, appending) and
 * descriptor 1 is reopened on stderr, where such chatter belongs (on
 * /dev/null when stderr cannot be reopened). Where stdout cannot be reopened
 * (a socket: systemd's journal; no /proc) nothing changes and the two lines
 * stay in the log. Worker threads write to the same descriptor (WorkerSetup.logFd).
 */
export function separateLogFromNativeOutput(): number {
  let logFd: number;
  try {
    logFd = fs.openSync('/proc/self/fd/1', 'a');
  } catch {
    return 1;
  }
  let into = '/dev/null';
  try {
    fs.closeSync(fs.openSync('/proc/self/fd/2', 'a'));
    into = '/proc/self/fd/2';
  } catch {
    // stderr is a socket or closed: native chatter is dropped.
  }
  fs.closeSync(1);
  // The lowest free descriptor: 1 again. Nothing else runs between these two calls.
  const fd = fs.openSync(into, 'a');
  if (fd !== 1) fs.closeSync(fd);
  return logFd;
}

/**
 * `fd`: where the JSON lines go (separateLogFromNativeOutput's descriptor, or 1).
 * `sync`: write each line at once (a serving worker thread: the main thread may
 * exit the process right after the worker's last lines, which must not be lost).
 */
export function createLogger(level: Level, fd = 1, prettyOutput = tty.isatty(fd), sync = false): Logger {
  const opts = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (prettyOutput) return pino(opts, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid', destination: fd }));
  return pino(opts, pino.destination({ dest: fd, sync, minLength: 0 }));
}
