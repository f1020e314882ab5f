import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { prepare } from './prepare.ts';

afterAll(removeConfigDirs);

describe('prepare: each vhost carries its own protocols', () => {
  it('resolves a protocol per vhost, with that vhost\'s options and limit; a skipped vhost takes its protocols with it', async () => {
    const dumb = (options: string, limit?: string) => [{ 'dumb-increment-protocol': { options, ...(limit ? { 'ws-max-message-size': limit } : {}) } }];
    const dir = makeConfigDir({
      vhosts: {
        x: [
          { name: 'a', port: '0', 'ws-protocols': dumb('1', '1000') },
          { name: 'b', port: '0', 'ws-protocols': dumb('0') },
          { name: 'c', port: '0', interface: '127.0.0.1', 'host-ssl-cert': 'missing.pem', 'host-ssl-key': 'missing.key', 'ignore-missing-cert': '1', 'ws-protocols': dumb('1') },
        ],
      },
    });
    const r = await prepare({ configDir: dir });
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => w.code)).toEqual(['TSWS_WARN_TLS_VHOST_SKIPPED']);
    const vhosts = r.prepared?.vhosts ?? [];
    expect(vhosts.map((v) => v.config.name)).toEqual(['a', 'b']);
    expect(vhosts.map((v) => v.config)).toEqual(r.prepared?.config.vhosts);
    const seen = vhosts.map((v) => [...v.protocols].map(([name, p]) => [name, p.plugin.name, p.options, p.maxMessageSize]));
    expect(seen).toEqual([
      [['dumb-increment-protocol', 'dumb-increment-protocol', { options: 1 }, 1000]],
      [['dumb-increment-protocol', 'dumb-increment-protocol', { options: 0 }, undefined]],
    ]);
  });
});
