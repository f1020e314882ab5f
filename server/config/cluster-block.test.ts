import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { loadConfig } from './loader.ts';

const load = (cluster: unknown) =>
  loadConfig({ configDir: makeConfigDir({ conf: { global: { cluster } }, vhosts: { x: [{ name: 'a', port: '0' }] } }), dataDir: '/data', shippedPluginDir: '/shipped' });

afterAll(removeConfigDirs);

describe('the global "cluster" block', () => {
  it('is absent by default: one instance, nothing to configure', () => {
    const r = loadConfig({ configDir: makeConfigDir({ vhosts: { x: [{ name: 'a', port: '0' }] } }), dataDir: '/d', shippedPluginDir: '/s' });
    expect(r.config?.global.cluster).toBeUndefined();
  });

  it('takes lwsws-style strings, with defaults for everything but the URL', () => {
    const c = load({ redis: 'redis://10.0.0.5:6379/2', 'ttl-secs': '5' }).config?.global.cluster;
    expect(c).toMatchObject({ redisUrl: 'redis://10.0.0.5:6379/2', prefix: 'tsws:', unreachableAtStart: 'retry', ttlSecs: 5, maxQueue: 10000 });
    expect(c?.instanceId).toMatch(/^[A-Za-z0-9._-]+-\d+-[0-9a-f]{4}$/);
  });

  it('refuses what it cannot use, each with its code and position', () => {
    const codes = (cluster: unknown) => load(cluster).diagnostics.errors.map((e) => e.code);
    expect(codes({ prefix: 'x:' })).toEqual(['TSWS_ERR_CONFIG_MISSING_KEY']);
    expect(codes({ redis: 'http://x' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ redis: 'redis://x', 'unreachable-at-start': 'wait' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ redis: 'redis://x', instance: 'has space' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ redis: 'redis://x', 'ttl-secs': '0' })).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    expect(codes('redis://x')).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    const unknown = load({ redis: 'redis://x', prefx: 'a' }).diagnostics.errors[0];
    expect(unknown?.code).toBe('TSWS_ERR_CONFIG_UNKNOWN_KEY');
    expect(unknown?.message).toMatch(/conf:\d+:\d+: unknown cluster key "prefx". Did you mean "prefix"\?/);
  });
});
