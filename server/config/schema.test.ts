import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { ReadContext } from './key-spec.ts';
import { loadConfig } from './loader.ts';
import type { ServerConfig } from './model.ts';
import { CLUSTER_KEYS, GLOBAL_KEYS, METRICS_KEYS, MOUNT_KEYS, VHOST_KEYS, type Block } from './schema.ts';

afterAll(removeConfigDirs);

const BLOCKS: Record<string, Block> = { global: GLOBAL_KEYS, vhost: VHOST_KEYS, mount: MOUNT_KEYS, cluster: CLUSTER_KEYS, metrics: METRICS_KEYS };

/** Where each key with a default lands in the model; a key given a default must be added here. */
const FIELD: Record<string, Record<string, (c: ServerConfig) => unknown>> = {
  global: {
    'server-string': (c) => c.global.serverString,
    'plugin-dir': (c) => c.global.pluginDirs.slice(1),
    'count-threads': (c) => c.global.countThreads,
    'channel-idle-max': (c) => c.global.channelIdleMax,
    'ws-pingpong-secs': (c) => c.global.wsPingPongSecs,
    'ws-message-timeout-secs': (c) => c.global.wsMessageTimeoutSecs,
    'ws-max-message-size': (c) => c.global.wsMaxMessageSize,
    'watchdog-secs': (c) => c.global.watchdogSecs,
    'grace-secs': (c) => c.global.graceSecs,
    'log-level': (c) => c.global.logLevel,
    'timeout-secs': (c) => c.global.timeoutSecs,
    'reject-service-keywords': (c) => c.global.rejectServiceKeywords,
    'ip-limit-wsi': (c) => c.global.ipLimitWsi,
  },
  vhost: {
    name: (c) => c.vhosts[0]?.name,
    'unix-socket': (c) => c.vhosts[0]?.unixSocket,
    sts: (c) => c.vhosts[0]?.sts,
    'ignore-missing-cert': (c) => c.vhosts[0]?.ignoreMissingCert,
    'redirect-http': (c) => c.vhosts[0]?.redirectHttp,
    headers: (c) => c.vhosts[0]?.headers,
    ciphers: (c) => c.vhosts[1]?.tls?.ciphers,
  },
  mount: {
    default: (c) => c.vhosts[0]?.mounts[0]?.defaultFile,
    'cache-max-age': (c) => c.vhosts[0]?.mounts[0]?.cacheMaxAge,
    'cache-reuse': (c) => c.vhosts[0]?.mounts[0]?.cacheReuse,
    'cache-revalidate': (c) => c.vhosts[0]?.mounts[0]?.cacheRevalidate,
    'cache-intermediaries': (c) => c.vhosts[0]?.mounts[0]?.cacheIntermediaries,
    'cache-no': (c) => c.vhosts[0]?.mounts[0]?.cacheNo,
    'exact-match': (c) => c.vhosts[0]?.mounts[0]?.exactMatch,
    'no-ws-upgrades': (c) => c.vhosts[0]?.mounts[0]?.noWsUpgrades,
    // 0 adds no Keep-Alive header: the mount's headers are the (default) configured ones.
    'keepalive-timeout': (c) => (c.vhosts[0]?.mounts[0]?.headers.length === 0 ? 0 : 'a Keep-Alive header'),
    'extra-mimetypes': (c) => c.vhosts[0]?.mounts[0]?.extraMimetypes,
    'cgi-timeout': (c) => c.vhosts[0]?.mounts[0]?.cgiTimeout,
    'cgi-env': (c) => c.vhosts[0]?.mounts[0]?.cgiEnv,
    headers: (c) => c.vhosts[0]?.mounts[0]?.headers,
    'append-path': (c) => c.vhosts[0]?.mounts[0]?.appendPath,
  },
  cluster: {
    prefix: (c) => c.global.cluster?.prefix,
    instance: (c) => c.global.cluster?.instanceId,
    'unreachable-at-start': (c) => c.global.cluster?.unreachableAtStart,
    'ttl-secs': (c) => c.global.cluster?.ttlSecs,
    'max-queue': (c) => c.global.cluster?.maxQueue,
  },
  metrics: { path: (c) => c.global.metrics?.path },
};

describe('the schema: each key declared once, with its default and why', () => {
  it('gives every default a reason and a way to show it, and every key a meaning', () => {
    for (const [block, keys] of Object.entries(BLOCKS)) {
      for (const [name, def] of Object.entries(keys)) {
        expect(def.doc, `${block} ${name}`).not.toBe('');
        if (def.notImplemented !== undefined) continue;
        expect(def.shown === undefined, `${block} ${name}: a default is shown exactly when it has a reason`).toBe(def.why === undefined);
      }
    }
  });

  it('is what a config leaving every key out is read as, key by key', () => {
    const dir = makeConfigDir({
      conf: { global: { cluster: { redis: 'redis://127.0.0.1:1' }, metrics: {} } },
      vhosts: { x: [{ port: '0', mounts: [{ mountpoint: '/', origin: 'file:///tmp' }] }, { name: 'tls', port: '1', 'host-ssl-cert': 'c', 'host-ssl-key': 'k' }] },
    });
    const r = loadConfig({ configDir: dir, dataDir: '/data', shippedPluginDir: '/shipped' });
    const config = r.config as ServerConfig;
    expect(r.diagnostics.errors).toEqual([]);
    const ctx: ReadContext = { expand: { path: (p) => `${dir}/${p}`, text: (t) => t } };
    for (const [block, keys] of Object.entries(BLOCKS)) {
      const defaulted = Object.entries(keys).filter(([, def]) => def.notImplemented === undefined && def.absent(ctx) !== undefined);
      expect(defaulted.map(([name]) => name).sort(), `${block}: keys with a default`).toEqual(Object.keys(FIELD[block] ?? {}).sort());
      for (const [name, def] of defaulted) {
        if (def.notImplemented !== undefined) continue;
        expect(FIELD[block]?.[name]?.(config), `${block} ${name}`).toEqual(def.absent(ctx));
      }
    }
  });
});
