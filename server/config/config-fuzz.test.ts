import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TswsError } from '../base/errors.ts';
import { loadConfig } from './loader.ts';
import { parseLwswsJson } from './lwsws-json.ts';
import { GLOBAL_KEYS, MOUNT_KEYS, VHOST_KEYS } from './schema.ts';

const SEED = path.resolve(import.meta.dirname, '../../test/fixtures/seed-comlink-v2');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-fuzz-'));
fs.mkdirSync(path.join(dir, 'conf.d'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads `conf` and one conf.d file; whatever happens must be coded diagnostics, never a throw. */
function loadTexts(conf: string, vhost: string): void {
  fs.writeFileSync(path.join(dir, 'conf'), conf);
  fs.writeFileSync(path.join(dir, 'conf.d', 'site'), vhost);
  const r = loadConfig({ configDir: dir, dataDir: '/data', shippedPluginDir: '/shipped' });
  for (const d of [...r.diagnostics.errors, ...r.diagnostics.warnings]) {
    expect(d).toBeInstanceOf(TswsError);
    expect(d.code).toMatch(/^TSWS_(ERR|WARN)_CONFIG_|^TSWS_(ERR|WARN)_/);
  }
  if (r.config === undefined) expect(r.diagnostics.errors.length).toBeGreaterThan(0);
}

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.constantFrom('0', '1', 'on', 'off', '7681', '-1', '99999999999', '', 'file:///tmp', 'callback://x', '>https://e', 'cgi:///bin/true', '_lws_ddir_/x'),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(...Object.keys(VHOST_KEYS), ...Object.keys(MOUNT_KEYS))), tie('v'), { maxKeys: 5 }),
  ),
})).v;

const vhostLike = fc.dictionary(fc.constantFrom(...Object.keys(VHOST_KEYS), 'mountz', 'porrt'), value, { maxKeys: 8 });
const globalLike = fc.dictionary(fc.constantFrom(...Object.keys(GLOBAL_KEYS), 'interface', 'cluster'), value, { maxKeys: 6 });

describe('config parser fuzz: nothing but coded config errors', () => {
  it('parses arbitrary text to a value or TSWS_ERR_CONFIG_SYNTAX with a position', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseLwswsJson(text, 'f');
        } catch (err) {
          expect(err).toBeInstanceOf(TswsError);
          expect((err as TswsError).code).toBe('TSWS_ERR_CONFIG_SYNTAX');
          expect((err as TswsError).message).toMatch(/^f(:\d+:\d+)?: syntax error/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('loads arbitrary JSON shapes made of real and misspelt keys with diagnostics only', () => {
    fc.assert(
      fc.property(globalLike, fc.array(vhostLike, { maxLength: 3 }), (g, vhosts) => {
        loadTexts(JSON.stringify({ global: g }), JSON.stringify({ vhosts }));
      }),
      { numRuns: 400 },
    );
  });

  it("survives random damage to the seed's own lwsws files", () => {
    const conf = fs.readFileSync(path.join(SEED, 'conf'), 'utf8');
    const host = fs.readFileSync(path.join(SEED, 'conf.d/comlink_v2'), 'utf8');
    const damage = (text: string) =>
      fc.array(fc.tuple(fc.nat(text.length), fc.nat(8), fc.string({ maxLength: 4 })), { maxLength: 4 }).map((edits) => {
        let t = text;
        for (const [at, del, ins] of edits) t = t.slice(0, at) + ins + t.slice(at + del);
        return t;
      });
    fc.assert(fc.property(damage(conf), damage(host), (c, h) => loadTexts(c, h)), { numRuns: 400 });
  });
});
