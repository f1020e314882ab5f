/** @module Plans and opens the listeners: one per address, the vhosts it serves, TLS with a certificate per SNI name. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { listenerKey, where, type ListenAddress, type TlsConfig } from '../config/model.ts';
import { describeError, tswsError } from '../base/errors.ts';
import type { ListenerHandle, TlsFiles, TlsListenerOptions } from '../transport/types.ts';
import type { Vhost } from '../vhost/vhost.ts';

export interface ListenerInfo {
  readonly key: string;
  /** "host:port", or the socket path. */
  readonly address: string;
  readonly port: number;
  readonly unixPath: string | undefined;
  readonly tls: boolean;
  readonly vhosts: readonly string[];
}

export interface ListenerPlan {
  readonly key: string;
  readonly address: ListenAddress;
  readonly vhosts: readonly Vhost[];
  readonly tls: TlsListenerOptions | undefined;
}

const files = (t: TlsConfig): TlsFiles => ({ cert: t.cert, key: t.key, ca: t.ca, ciphers: t.ciphers });

/**
 * Every address of every vhost, grouped: vhosts naming the same address share
 * its socket. A TLS socket's default certificate is its first vhost's (what a
 * client naming no known host gets); every vhost also answers under its own
 * SNI name. The config loader already refused TLS and plain on one socket.
 */
export function planListeners(vhosts: readonly Vhost[]): ListenerPlan[] {
  const groups = new Map<string, { address: ListenAddress; vhosts: Vhost[] }>();
  for (const v of vhosts) {
    for (const address of v.config.listens) {
      const key = listenerKey(address);
      const g = groups.get(key) ?? { address, vhosts: [] };
      g.vhosts.push(v);
      groups.set(key, g);
    }
  }
  return [...groups].map(([key, { address, vhosts: vs }]) => {
    const first = vs[0] as Vhost;
    const tls = first.config.tls
      ? { fallback: files(first.config.tls), names: vs.map((v) => ({ name: v.name, files: files(v.config.tls as TlsConfig) })) }
      : undefined;
    return { key, address, vhosts: vs, tls };
  });
}

/**
 * Above this a message is cut by the transport itself (1006) before it is
 * ever buffered whole. It follows the largest maxMessageSize on the listener
 * (rxBufferSize is only the piece size plugins receive in, not a limit).
 */
export function transportCap(maxMessage: number): number {
  return Math.min(2 * maxMessage + 64 * 1024, 0x7fffffff);
}

/**
 * The transport's one websocket timer (uWS.js idleTimeout, with automatic
 * pings): ws-pingpong-secs, off by default. With it an idle peer answers the
 * ping and stays, while a peer that stops in the middle of a frame (say one
 * announcing 1 MiB) cannot answer (its pong would be payload) and is closed.
 * Not on by default because uWS.js restarts the timer on every send as well
 * as every byte received: measured, a tenth of the mirror fan-out's
 * throughput (bench mirror 1 to 100: 0.75x raw uWS.js without, 0.68x with).
 * The shipped conf turns it on; docs/reference/security.md says what each choice means.
 */
export function wsIdleSecs(g: { readonly wsPingPongSecs: number }): number {
  return g.wsPingPongSecs;
}

/** An interface name ("lo", "eth0") becomes its first address, IPv4 preferred. */
function resolveInterface(addr: ListenAddress): string {
  const iface = addr.iface;
  if (!iface || net.isIP(iface)) return iface ?? '';
  const nics = os.networkInterfaces();
  const list = nics[iface];
  const pick = list?.find((a) => a.family === 'IPv4') ?? list?.[0];
  if (!pick) throw tswsError('TSWS_ERR_INTERFACE_UNKNOWN', { where: where(addr.source), name: iface, known: Object.keys(nics).join(', ') });
  return pick.address;
}

/**
 * How this thread binds. Alone (one thread): exclusively, so a port another
 * process holds is an error, not a silent share. With count-threads, every
 * thread binds each TCP port with SO_REUSEPORT and the kernel spreads the
 * connections among them: the lead (first) thread first binds exclusively to
 * prove the port free, then rebinds it shared; the others join on the port
 * it got (the same, when the config leaves it to the system with 0). A UNIX
 * socket cannot be shared: the lead thread alone serves it.
 */
export interface ListenPolicy {
  readonly mode: 'alone' | 'lead' | 'join';
  portFor(key: string): number | undefined;
}

export const ALONE: ListenPolicy = { mode: 'alone', portFor: () => undefined };

export async function openListener(plan: ListenerPlan, handle: ListenerHandle, policy: ListenPolicy = ALONE): Promise<ListenerInfo> {
  const addr = plan.address;
  const base = { key: plan.key, tls: plan.tls !== undefined, vhosts: plan.vhosts.map((v) => v.name) };
  if (addr.unixSocket) {
    const sock = addr.iface as string;
    // lws unlinks a stale socket file; refuse to delete anything that is not a socket.
    try {
      if (fs.lstatSync(sock).isSocket()) fs.unlinkSync(sock);
    } catch {
      /* absent: fine */
    }
    try {
      await handle.listenUnix(sock);
      // lws's mode: owner and group may connect (uSockets leaves it to the umask). Chowned to
      // the user and group dropped to, as lws does, by lifecycle.ts.
      fs.chmodSync(sock, 0o660);
    } catch (err) {
      throw tswsError('TSWS_ERR_LISTEN', { where: where(addr.source), address: `unix:${sock}`, reason: describeError(err) }, err);
    }
    return { ...base, address: sock, port: 0, unixPath: sock };
  }
  const host = resolveInterface(addr);
  try {
    let port = await handle.listen(host, policy.portFor(plan.key) ?? addr.port, policy.mode === 'join');
    if (policy.mode === 'lead') {
      handle.stopListening();
      port = await handle.listen(host, port, true);
    }
    const shown = host.includes(':') ? `[${host}]` : host || '*';
    return { ...base, address: `${shown}:${port}`, port, unixPath: undefined };
  } catch (err) {
    throw tswsError('TSWS_ERR_LISTEN', { where: where(addr.source), address: `${host || '*'}:${addr.port}`, reason: describeError(err) }, err);
  }
}
