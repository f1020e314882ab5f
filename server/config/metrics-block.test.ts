import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { loadConfig } from './loader.ts';

const load = (metrics: unknown, vhost: Record<string, unknown> = {}) =>
  loadConfig({
    configDir: makeConfigDir({ conf: { global: metrics === undefined ? {} : { metrics } }, vhosts: { x: [{ name: 'a', port: '7000', ...vhost }] } }),
    dataDir: '/data',
    shippedPluginDir: '/shipped',
  });
const codes = (metrics: unknown, vhost?: Record<string, unknown>) => load(metrics, vhost).diagnostics.errors.map((e) => e.code);

afterAll(removeConfigDirs);

describe('the global "metrics" block', () => {
  it('is absent by default: no metrics anywhere', () => {
    expect(load(undefined).config?.global.metrics).toBeUndefined();
  });

  it('with "port": a listener of its own, at /metrics unless "path" says otherwise', () => {
    expect(load({ port: '9100' }).config?.global.metrics).toMatchObject({ path: '/metrics', port: 9100, iface: undefined });
    expect(load({ port: '0', interface: '127.0.0.1', path: '/prom' }).config?.global.metrics).toMatchObject({ path: '/prom', port: 0, iface: '127.0.0.1' });
  });

  it('without "port": the path on every vhost', () => {
    expect(load({ path: '/m' }).config?.global.metrics).toMatchObject({ path: '/m', port: undefined });
    expect(load({}).config?.global.metrics).toMatchObject({ path: '/metrics', port: undefined });
  });

  it('refuses what it cannot use, each with its code and position', () => {
    expect(codes('9100')).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    expect(codes({ path: 'metrics' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ path: '/a/../metrics' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ path: '/metrics?x=1' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes({ port: '70000' })).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    expect(codes({ interface: '127.0.0.1' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    const clash = load({ port: '7000' }).diagnostics.errors[0];
    expect(clash?.code).toBe('TSWS_ERR_CONFIG_VALUE');
    expect(clash?.message).toMatch(/conf:\d+:\d+: bad "port": port 7000 is also vhost "a"'s/);
    const unknown = load({ portt: '9100' }).diagnostics.errors[0];
    expect(unknown?.message).toMatch(/unknown metrics key "portt". Did you mean "port"\?/);
  });
});

describe('the vhost key "health-path"', () => {
  it('is a plain absolute path, or absent', () => {
    expect(load(undefined, { 'health-path': '/healthz' }).config?.vhosts[0]?.healthPath).toBe('/healthz');
    expect(load(undefined).config?.vhosts[0]?.healthPath).toBeUndefined();
    expect(codes(undefined, { 'health-path': 'healthz' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
    expect(codes(undefined, { 'health-path': '/health%7a' })).toEqual(['TSWS_ERR_CONFIG_VALUE']);
  });
});
