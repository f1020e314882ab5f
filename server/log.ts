/** @module The application logger: pino JSON lines on stdout, pretty when stdout is a terminal. */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type Level = (typeof LEVELS)[number];

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

export function createLogger(level: Level, prettyOutput = process.stdout.isTTY === true): Logger {
  const opts = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (prettyOutput) return pino(opts, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid' }));
  return pino(opts, pino.destination({ dest: 1, sync: false, minLength: 0 }));
}
