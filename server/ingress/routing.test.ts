/** @module Vhost routing on one listener: Host (and on TLS the SNI name) picks the vhost, then the longest mount at a "/" boundary. */
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { loadConfig } from '../config/loader.ts';
import { MISDIRECTED, VhostRouter } from './vhost-router.ts';
import { Vhost } from '../vhost/vhost.ts';

afterAll(removeConfigDirs);

/** Vhosts as the loader makes them from lwsws vhost blocks (no protocols: routing does not need them). */
function vhosts(...blocks: Record<string, unknown>[]): Vhost[] {
  const dir = makeConfigDir({ vhosts: { site: blocks.map((b) => ({ port: '7681', interface: '127.0.0.1', ...b })) } });
  const r = loadConfig({ configDir: dir, dataDir: dir, shippedPluginDir: dir });
  if (!r.config) throw new Error(r.diagnostics.errors.map((e) => e.message).join('\n'));
  return r.config.vhosts.map((vc) => new Vhost(vc, new Map(), undefined));
}

const names = (picked: Vhost | typeof MISDIRECTED) => (picked === MISDIRECTED ? picked : picked.name);

describe('a plain listener', () => {
  const router = new VhostRouter(vhosts({ name: 'first.example' }, { name: 'second.example' }));

  it('picks the vhost the Host header names, in any case and with a port', () => {
    expect(names(router.pick('second.example'))).toBe('second.example');
    expect(names(router.pick('SECOND.Example:7681'))).toBe('second.example');
  });

  it('gives an unknown or missing Host the first vhost, as lws does', () => {
    expect(names(router.pick('elsewhere.example'))).toBe('first.example');
    expect(names(router.pick(''))).toBe('first.example');
  });

  it('reads an IPv6 literal Host as a name up to its bracket', () => {
    const v6 = new VhostRouter(vhosts({ name: 'first.example' }, { name: '[::1]' }));
    expect(names(v6.pick('[::1]:7681'))).toBe('[::1]');
  });
});

describe('a TLS listener', () => {
  const router = new VhostRouter(vhosts({ name: 'first.example' }, { name: 'second.example' }), true);

  it('picks the vhost of the SNI name, which the Host header must agree with (else 421)', () => {
    expect(names(router.pick('second.example', 'second.example'))).toBe('second.example');
    expect(names(router.pick('', 'second.example'))).toBe('second.example');
    expect(names(router.pick('first.example', 'second.example'))).toBe(MISDIRECTED);
  });

  it('gives a client with no or an unknown SNI name the first vhost, unless its Host names another one', () => {
    expect(names(router.pick('first.example'))).toBe('first.example');
    expect(names(router.pick('unknown.example', 'unknown.example'))).toBe('first.example');
    expect(names(router.pick('second.example'))).toBe(MISDIRECTED);
  });
});

describe('mounts of a vhost', () => {
  const [v] = vhosts({
    name: 'm.example',
    mounts: [
      { mountpoint: '/', origin: 'file:///srv/www' },
      { mountpoint: '/app', origin: 'callback://p' },
      { mountpoint: '/app/static', origin: 'file:///srv/static' },
      { mountpoint: '/exact', origin: 'callback://p', 'exact-match': '1' },
      { mountpoint: '/ws', origin: 'http://127.0.0.1:9/', 'no-ws-upgrades': '1' },
    ],
  }) as [Vhost];
  const at = (path: string, upgrade = false) => v.findMount(path, { upgrade })?.mountpoint;

  it('serves a path from the longest mountpoint matching at a "/" boundary', () => {
    expect(at('/app/static/x.css')).toBe('/app/static');
    expect(at('/app/x')).toBe('/app');
    expect(at('/app')).toBe('/app');
    expect(at('/application')).toBe('/');
  });

  it('serves an exact-match mount its own path only', () => {
    expect(at('/exact')).toBe('/exact');
    expect(at('/exact/more')).toBe('/');
  });

  it('lets a websocket upgrade pass a no-ws-upgrades mount by', () => {
    expect(at('/ws/x')).toBe('/ws');
    expect(at('/ws/x', true)).toBe('/');
  });
});
