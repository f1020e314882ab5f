import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { ErrorCode } from '../base/errors.ts';
import { loadConfig } from './loader.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
const load = (dir: string) => loadConfig({ configDir: dir, dataDir: '/data', shippedPluginDir: '/shipped' });
const codes = (errs: readonly { code: ErrorCode }[]) => errs.map((e) => e.code);
const vhost = (extra: Record<string, unknown> = {}) => [{ name: 'a', port: '0', ...extra }];

afterAll(removeConfigDirs);

describe('config loader', () => {
  it("loads the seed's lwsws_comlink_v2 conf and host verbatim, with warnings only", () => {
    const r = load(path.join(FIXTURES, 'seed-comlink-v2'));
    expect(codes(r.diagnostics.errors)).toEqual([]);
    expect(r.config?.vhosts[0]?.name).toBe('localhost');
    expect(r.config?.vhosts[0]?.port).toBe(7681);
    expect(r.config?.global.serverString).toBe('lwsws');
    expect(r.config?.global.wsPingPongSecs).toBe(200);
    const w = r.diagnostics.warnings;
    // "interface" sits in the seed's global block: a warning naming the key, never silence
    const wrongPlace = w.find((x) => x.code === 'TSWS_WARN_CONFIG_WRONG_PLACE');
    expect(wrongPlace?.message).toMatch(/conf:7:4: "interface" belongs in a vhost block/);
    // every lwsws key the seed uses is implemented now, its privilege keys included
    expect(w.filter((x) => x.code === 'TSWS_WARN_CONFIG_NOT_IMPLEMENTED')).toEqual([]);
    expect(r.config?.global.privileges).toEqual({ uid: 33, gid: 33, username: 'AMS-TEAM', groupname: 'AMS-TEAM' });
    expect(r.config?.vhosts[0]?.sts).toBe(true);
    // _lws_ddir_ expands to the data dir
    const mount = r.config?.vhosts[0]?.mounts[0];
    expect(mount?.origin).toEqual({ kind: 'file', root: '/data/libwebsockets-test-server' });
    expect(mount?.cacheMaxAge).toBe(60);
    expect(mount?.cacheReuse).toBe(true);
    expect(r.config?.vhosts[0]?.protocols.map((p) => p.name)).toContain('protocol-lws-packet');
  });

  it('reads conf.d in alphabetical order, skipping dotfiles and names with ~', () => {
    const dir = makeConfigDir({
      vhosts: { b: vhost({ name: 'b' }), a: vhost({ name: 'a2', port: '1' }), '.hidden': '{ broken', 'c~': '{ broken' },
    });
    const r = load(dir);
    expect(codes(r.diagnostics.errors)).toEqual([]);
    expect(r.config?.vhosts.map((v) => v.name)).toEqual(['a2', 'b']);
  });

  it('refuses an unknown key, suggesting the nearest one, at its file:line:col', () => {
    const dir = makeConfigDir({ vhosts: { x: '{\n "vhosts": [{\n   "name": "a", "port": "0",\n   "mountz": []\n }]\n}' } });
    const r = load(dir);
    expect(r.config).toBeUndefined();
    expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_UNKNOWN_KEY']);
    expect(r.diagnostics.errors[0]?.message).toMatch(/conf\.d\/x:4:4: unknown vhost key "mountz"\. Did you mean "mounts"\?/);
  });

  it('coerces lwsws strings and refuses values of the wrong type', () => {
    const ok = load(makeConfigDir({ vhosts: { x: vhost({ port: 7, 'unix-socket': 'off' }) } }));
    expect(ok.config?.vhosts[0]?.port).toBe(7);
    const bad = load(makeConfigDir({ vhosts: { x: vhost({ port: 'http' }) } }));
    expect(codes(bad.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    expect(bad.diagnostics.errors[0]?.message).toContain('"port" must be an integer from 0 to 65535, got "http"');
    const badBool = load(makeConfigDir({ vhosts: { x: [{ name: 'a', port: '0', mounts: [{ mountpoint: '/', origin: 'file:///tmp', 'cache-reuse': 'ofn' }] }] } }));
    expect(codes(badBool.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_TYPE']);
  });

  it('needs a port, a mountpoint and an origin', () => {
    const r = load(makeConfigDir({ vhosts: { x: [{ name: 'a', mounts: [{ origin: 'file:///tmp' }] }] } }));
    expect(codes(r.diagnostics.errors).sort()).toEqual(['TSWS_ERR_CONFIG_MISSING_KEY', 'TSWS_ERR_CONFIG_MISSING_KEY']);
  });

  it('refuses origins with no supported scheme and mountpoints not starting with /', () => {
    const r = load(makeConfigDir({ vhosts: { x: vhost({ mounts: [{ mountpoint: '/a', origin: 'ftp://x' }, { mountpoint: 'b', origin: 'file:///tmp' }] }) } }));
    expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_VALUE', 'TSWS_ERR_CONFIG_VALUE']);
    expect(r.diagnostics.errors[0]?.message).toContain('"ftp://x" has no supported scheme');
  });

  it('parses every origin kind', () => {
    const r = load(makeConfigDir({
      vhosts: {
        x: vhost({
          mounts: [
            { mountpoint: '/f', origin: 'file://_lws_ddir_/www' },
            { mountpoint: '/c', origin: 'cgi:///bin/true' },
            { mountpoint: '/cb', origin: 'callback://proto' },
            { mountpoint: '/p', origin: 'http://127.0.0.1:9/x' },
            { mountpoint: '/r/', origin: '>https://example.com/' },
          ],
        }),
      },
    }));
    expect(r.config?.vhosts[0]?.mounts.map((m) => [m.mountpoint, m.origin])).toEqual([
      ['/f', { kind: 'file', root: '/data/www' }],
      ['/c', { kind: 'cgi', script: '/bin/true' }],
      ['/cb', { kind: 'callback', protocol: 'proto' }],
      ['/p', { kind: 'proxy', url: 'http://127.0.0.1:9/x' }],
      ['/r', { kind: 'redirect', url: 'https://example.com/' }],
    ]);
  });

  it('keeps ws-protocols in order with their options and the default mark', () => {
    const r = load(makeConfigDir({ vhosts: { x: vhost({ 'ws-protocols': [{ p1: { status: 'ok' }, p2: { default: '1', n: 5 } }] }) } }));
    const ps = r.config?.vhosts[0]?.protocols ?? [];
    expect(ps.map((p) => [p.name, p.isDefault, p.options])).toEqual([
      ['p1', false, { status: 'ok' }],
      ['p2', true, { default: '1', n: '5' }],
    ]);
  });

  it('refuses two vhosts that bind one port on different interfaces, and duplicate names on a listener', () => {
    const r = load(makeConfigDir({ vhosts: { x: [{ name: 'a', port: '8000' }, { name: 'b', port: '8000', interface: '127.0.0.1' }, { name: 'a', port: '8000' }] } }));
    expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_LISTENER_CONFLICT', 'TSWS_ERR_CONFIG_DUPLICATE_VHOST']);
  });

  it('refuses a second mount at the same mountpoint on a vhost, at its file:line, naming the first', () => {
    const mounts = [
      { mountpoint: '/app', origin: 'file:///srv/a' },
      { mountpoint: '/app', origin: 'file:///srv/x', 'exact-match': '1' },
      { mountpoint: '/app/', origin: 'http://127.0.0.1:9/' },
    ];
    const dir = makeConfigDir({ vhosts: { x: `{"vhosts": [{"name": "a", "port": "0",\n"mounts": [\n${mounts.map((m) => JSON.stringify(m)).join(',\n')}]}]}` } });
    const r = load(dir);
    // The exact-match one beside the prefix one is reachable; "/app/" is "/app" again.
    expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_DUPLICATE_MOUNT']);
    expect(r.diagnostics.errors[0]?.message.startsWith(`${path.join(dir, 'conf.d/x')}:5:1: vhost "a" already has a mount at "/app" (${path.join(dir, 'conf.d/x')}:3:1); a request can only reach the first`)).toBe(true);
  });

  it('refuses a vhost name with a NUL or another control character, at its file:line', () => {
    for (const name of ['a\u0000b', 'evil\nhost', 'x\u007f']) {
      const r = load(makeConfigDir({ vhosts: { x: vhost({ name }) } }));
      expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_VALUE']);
      expect(r.diagnostics.errors[0]?.message).toMatch(/conf\.d\/x:\d+:\d+: bad "name": .* contains the control character U\+00(00|0A|7F)/);
      expect(r.config).toBeUndefined();
    }
  });

  it('needs a unix socket path', () => {
    const r = load(makeConfigDir({ vhosts: { x: [{ name: 'a', 'unix-socket': '1' }] } }));
    expect(codes(r.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_MISSING_KEY']);
  });

  it('reports a syntax error with its position, a missing config dir, and no vhosts at all', () => {
    const syntax = load(makeConfigDir({ vhosts: { x: '{ "vhosts": [ { "name": "a" "port": 1 } ] }' } }));
    expect(codes(syntax.diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_SYNTAX']);
    expect(syntax.diagnostics.errors[0]?.message).toMatch(/conf\.d\/x:1:29: syntax error/);
    expect(codes(load('/nonexistent/tsws').diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_DIR']);
    expect(codes(load(makeConfigDir({})).diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_NO_VHOSTS']);
    expect(codes(load(makeConfigDir({ conf: '{"global": {}, "vhost": []}' })).diagnostics.errors)).toContain('TSWS_ERR_CONFIG_UNKNOWN_KEY');
  });

  it('warns about duplicate keys, later one winning', () => {
    const r = load(makeConfigDir({ vhosts: { x: '{"vhosts": [{"name": "a", "port": "1",\n "port": "0"}]}' } }));
    expect(codes(r.diagnostics.warnings)).toEqual(['TSWS_WARN_CONFIG_DUPLICATE_KEY']);
    expect(r.config?.vhosts[0]?.port).toBe(0);
  });

  it('rounds ws-pingpong-secs to the transport tick and defaults plugin dirs to shipped + <dir>/plugins', () => {
    const dir = makeConfigDir({ conf: { global: { 'ws-pingpong-secs': '5' } }, vhosts: { x: vhost() }, plugins: { 'p.ts': '' } });
    const r = load(dir);
    expect(r.config?.global.wsPingPongSecs).toBe(8);
    expect(r.config?.global.pluginDirs).toEqual(['/shipped', path.join(dir, 'plugins')]);
  });

  it('ws-message-timeout-secs: on by default (30 s), 0 turns it off, negative is refused', () => {
    expect(load(makeConfigDir({ vhosts: { x: vhost() } })).config?.global.wsMessageTimeoutSecs).toBe(30);
    expect(load(makeConfigDir({ conf: { global: { 'ws-message-timeout-secs': '0' } }, vhosts: { x: vhost() } })).config?.global.wsMessageTimeoutSecs).toBe(0);
    expect(codes(load(makeConfigDir({ conf: { global: { 'ws-message-timeout-secs': '-1' } }, vhosts: { x: vhost() } })).diagnostics.errors)).toEqual(['TSWS_ERR_CONFIG_TYPE']);
  });

  it('ws-max-message-size: 16 MiB unless conf or the vhost says otherwise; 0 is refused', () => {
    const plain = load(makeConfigDir({ vhosts: { x: vhost() } }));
    expect(plain.config?.global.wsMaxMessageSize).toBe(16 * 1024 * 1024);
    expect(plain.config?.vhosts[0]?.wsMaxMessageSize).toBeUndefined();
    const set = load(makeConfigDir({ conf: { global: { 'ws-max-message-size': '65536' } }, vhosts: { x: vhost({ 'ws-max-message-size': '1024' }) } }));
    expect(set.config?.global.wsMaxMessageSize).toBe(65536);
    expect(set.config?.vhosts[0]?.wsMaxMessageSize).toBe(1024);
    const zero = load(makeConfigDir({ vhosts: { x: vhost({ 'ws-max-message-size': '0' }) } }));
    expect(codes(zero.diagnostics.errors)).not.toEqual([]);
  });

  it('ws-rate-limit-address / -user: nginx-style rates, burst one second\'s worth unless given, off when absent; nonsense is refused', () => {
    const rate = (v: unknown) => load(makeConfigDir({ vhosts: { x: vhost({ 'ws-rate-limit-address': v, 'ws-rate-limit-user': '600r/m burst=5' }) } }));
    expect(load(makeConfigDir({ vhosts: { x: vhost() } })).config?.vhosts[0]?.wsRateLimitAddress).toBeUndefined();
    expect(rate('20r/s').config?.vhosts[0]?.wsRateLimitAddress).toEqual({ perSecond: 20, burst: 20 });
    expect(rate('0.5/s burst=3').config?.vhosts[0]?.wsRateLimitAddress).toEqual({ perSecond: 0.5, burst: 3 });
    expect(rate('1r/h').config?.vhosts[0]?.wsRateLimitAddress).toEqual({ perSecond: 1 / 3600, burst: 1 });
    expect(rate('off').config?.vhosts[0]?.wsRateLimitAddress).toBeUndefined();
    expect(rate('20r/s').config?.vhosts[0]?.wsRateLimitUser).toEqual({ perSecond: 10, burst: 5 });
    for (const bad of ['20', 'fast', '20r/d', '0r/s', '5r/s burst=0']) expect(codes(rate(bad).diagnostics.errors), bad).toEqual(['TSWS_ERR_CONFIG_VALUE']);
  });
});
