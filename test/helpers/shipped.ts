/** @module Starts an in-process server offering the shipped protocols, with per-vhost options when given. */
import { makeConfigDir } from './config-dir.ts';
import { startInProcess, type Running } from './in-process.ts';

export const SHIPPED = ['dumb-increment-protocol', 'lws-mirror-protocol', 'lws-status', 'echo'] as const;

/** One vhost per entry of `vhosts` (name → protocol options), all on one ephemeral port. */
export function startShipped(vhosts: Record<string, Record<string, Record<string, string>>> = { localhost: {} }): Promise<Running> {
  const dir = makeConfigDir({
    vhosts: Object.fromEntries(
      Object.entries(vhosts).map(([name, opts]) => [
        name,
        [{ name, port: '0', interface: '127.0.0.1', 'ws-protocols': [Object.fromEntries(SHIPPED.map((p) => [p, opts[p] ?? { status: 'ok' }]))] }],
      ]),
    ),
  });
  return startInProcess(dir);
}
