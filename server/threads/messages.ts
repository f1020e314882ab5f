/** @module count-threads: what the main thread and its worker threads tell each other. */
import type { MessagePort } from 'node:worker_threads';
import type { Level } from '../base/log.ts';
import type { ListenerInfo } from '../ingress/listeners.ts';
import type { ReloadReport } from '../app/server.ts';

export interface WorkerSetup {
  readonly configDir: string;
  readonly dataDir: string | undefined;
  readonly level: Level;
  /** The JSON log's descriptor: the process's descriptors are shared by every thread. */
  readonly logFd: number;
  readonly index: number;
  readonly count: number;
  /** The lead binds first (exclusively, proving each port free); the others, and a replacement lead, join. */
  readonly lead: boolean;
  readonly generation: number;
  /** Ports the lead thread bound, by listener key: the others bind the same. */
  readonly ports: Readonly<Record<string, number>>;
  /** The watchdog's view of this thread (server/base/beacon.ts); absent when watchdog-secs is 0. */
  readonly beacon: SharedArrayBuffer | undefined;
  /** With count-threads > 1 and no cluster: this thread's end of the port to the main thread's channel store (transferred). */
  readonly channels?: MessagePort;
}

/** A failure carried across threads: the error's code and message, for the main thread's log. */
export interface Failure {
  readonly code: string | undefined;
  readonly message: string;
}

export type ToWorker =
  | { readonly type: 'reload'; readonly id: number; readonly generation: number; readonly ports: Readonly<Record<string, number>> }
  | { readonly type: 'refused' }
  | { readonly type: 'stop'; readonly id: number; readonly graceMs: number }
  | { readonly type: 'reopen'; readonly id: number }
  | { readonly type: 'abandon'; readonly id: number };

export type FromWorker =
  | { readonly type: 'ready'; readonly listeners: readonly ListenerInfo[] }
  | { readonly type: 'start-failed'; readonly failure: Failure }
  | { readonly type: 'reloaded'; readonly id: number; readonly report: ReloadReport; readonly listeners: readonly ListenerInfo[] }
  | { readonly type: 'reload-failed'; readonly id: number; readonly failure: Failure }
  | { readonly type: 'stopped'; readonly id: number; readonly cut: number }
  | { readonly type: 'reopened'; readonly id: number; readonly failures: readonly Failure[] }
  | { readonly type: 'abandoned'; readonly id: number };

/** Port of each TCP listener, for the threads that join the lead's. */
export function portsOf(listeners: readonly ListenerInfo[]): Record<string, number> {
  return Object.fromEntries(listeners.filter((l) => l.unixPath === undefined).map((l) => [l.key, l.port]));
}

export function failureOf(err: unknown): Failure {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : String(err) };
}
