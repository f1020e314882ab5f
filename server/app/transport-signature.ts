/** @module What a listening socket is bound with (websocket options, TLS files by content): a reload re-binds it only when that changed. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { PROXY_WS_MAX_MESSAGE } from '../http/mounts/proxy-ws.ts';
import { transportCap, type ListenerPlan } from '../ingress/listeners.ts';
import { WRITABLE_THRESHOLD } from '../session/connection.ts';
import type { WsTransportOptions } from '../transport/types.ts';

/**
 * The transport's websocket settings for a listener: its cap follows the
 * largest message any protocol on it takes (a proxy mount passes messages up
 * to the proxy's own limit); `idleTimeout` is wsIdleSecs (listeners.ts);
 * `compressions` the permessage-deflate compressors its protocols offer,
 * each a route of its own in the transport, so a change re-binds.
 */
export function wsOptions(plan: ListenerPlan, idleTimeout: number): WsTransportOptions {
  const proxied = plan.vhosts.some((v) => v.config.mounts.some((m) => m.origin.kind === 'proxy'));
  const maxMessage = Math.max(1024, proxied ? PROXY_WS_MAX_MESSAGE : 0, ...plan.vhosts.flatMap((v) => [...v.protocols.values()].map((h) => h.maxMessageSize)));
  const compressions = [...new Set(plan.vhosts.flatMap((v) => [...v.protocols.values()].map((h) => h.compression)))].filter((c) => c !== 'off').sort();
  return { maxPayloadLength: transportCap(maxMessage), idleTimeout, maxBackpressure: 64 * 1024 * 1024 + WRITABLE_THRESHOLD, compressions };
}

/**
 * What cannot change without a new socket: the websocket settings and the
 * TLS files. Files are compared by content, so a renewed certificate at the
 * same path is taken up by the reload that follows.
 */
export function transportSignature(plan: ListenerPlan, idleTimeout: number): string {
  const digest = (file: string | undefined) => (file ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : '');
  const tls = plan.tls && [plan.tls.fallback, ...plan.tls.names.map((n) => n.files)].map((f) => [f.cert, digest(f.cert), digest(f.key), digest(f.ca), f.ciphers ?? '']);
  return JSON.stringify({ ws: wsOptions(plan, idleTimeout), tls, names: plan.tls?.names.map((n) => n.name) });
}
