/** @module A running vhost: its protocols, mounts and access log, and the choices made per request. */
import { TswsError, tswsError } from '../base/errors.ts';
import type { MountConfig, VhostConfig } from '../config/model.ts';
import type { AccessLog } from './access-log.ts';
import { newHttpCounters, type HttpCounters } from '../metrics/counters.ts';
import type { ProtocolHost } from '../session/protocol-host.ts';

export class Vhost {
  readonly config: VhostConfig;
  readonly name: string;
  readonly accessLog: AccessLog | undefined;
  /** Every response's status and size, counted as it finishes. */
  readonly httpCounters: HttpCounters;
  /** Enabled, loaded and successfully initialised protocols, in config order. */
  readonly protocols: ReadonlyMap<string, ProtocolHost>;
  readonly #defaultProtocol: ProtocolHost | undefined;
  /** Longest mountpoint first, so the first match is the best one. */
  readonly #mounts: readonly MountConfig[];

  constructor(config: VhostConfig, protocols: ReadonlyMap<string, ProtocolHost>, accessLog: AccessLog | undefined, httpCounters: HttpCounters = newHttpCounters()) {
    this.config = config;
    this.httpCounters = httpCounters;
    this.name = config.name;
    this.protocols = protocols;
    this.accessLog = accessLog;
    const marked = config.protocols.find((p) => p.isDefault && protocols.has(p.name));
    this.#defaultProtocol = marked ? protocols.get(marked.name) : protocols.values().next().value;
    // At the same length an exact-match mount wins over a prefix one (lws_find_mount).
    this.#mounts = [...config.mounts].sort((a, b) => b.mountpoint.length - a.mountpoint.length || Number(b.exactMatch) - Number(a.exactMatch));
  }

  /**
   * The client's Sec-WebSocket-Protocol list picks the first protocol this
   * vhost offers; no header means the default one (marked "default", else the
   * first listed). A header naming nothing we offer is refused (400).
   */
  pickProtocol(header: string): ProtocolHost | TswsError {
    if (header.trim() === '') {
      return this.#defaultProtocol ?? tswsError('TSWS_ERR_UPGRADE_NO_PROTOCOL', { vhost: this.name });
    }
    for (const raw of header.split(',')) {
      const host = this.protocols.get(raw.trim());
      if (host?.live) return host;
    }
    return tswsError('TSWS_ERR_UPGRADE_PROTOCOL_UNKNOWN', {
      vhost: this.name,
      requested: header,
      offered: [...this.protocols.keys()].join(', ') || 'none',
    });
  }

  /**
   * lws_find_mount: the longest mountpoint that matches at a "/" boundary (an
   * exact-match one only the path itself); an upgrade skips no-ws-upgrades mounts.
   */
  findMount(path: string, opts: { readonly upgrade?: boolean } = {}): MountConfig | undefined {
    for (const m of this.#mounts) {
      const mp = m.mountpoint;
      if (opts.upgrade && m.noWsUpgrades) continue;
      if (m.exactMatch) {
        if (path === mp) return m;
        continue;
      }
      if (mp === '/') return m;
      if (path.startsWith(mp) && (path.length === mp.length || path.charCodeAt(mp.length) === 47 /* / */)) return m;
    }
    return undefined;
  }
}
