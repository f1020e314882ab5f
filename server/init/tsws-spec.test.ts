import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTswsError } from '../base/errors.ts';
import { VERSION } from '../base/version.ts';
import { tswsSpec } from './tsws-spec.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-spec-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A project as npm leaves it after installing tsws: its node_modules/tsws, and what npm wrote down about it. */
function installed(name: string, files: Record<string, unknown>): string {
  const owner = path.join(root, name);
  fs.mkdirSync(path.join(owner, 'node_modules/tsws'), { recursive: true });
  for (const [file, json] of Object.entries(files)) fs.writeFileSync(path.join(owner, file), JSON.stringify(json));
  return path.join(owner, 'node_modules/tsws');
}

describe('the tsws dependency init writes', () => {
  it("is the tarball npx installed, as an absolute file: spec (the npx project's package-lock.json `resolved`)", () => {
    const pkg = installed('npx-hash', {
      'package.json': { dependencies: { tsws: 'file:../../tmp/x/tsws-0.1.0.tgz' }, _npx: { packages: ['./tsws-0.1.0.tgz'] } },
      'package-lock.json': { packages: { 'node_modules/tsws': { version: '0.1.0', resolved: 'file:../../tmp/x/tsws-0.1.0.tgz' } } },
    });
    expect(tswsSpec(pkg)).toBe(`file:${path.resolve(root, 'npx-hash', '../../tmp/x/tsws-0.1.0.tgz')}`);
  });

  it("falls back on the project's package.json, keeps a git URL as written, and follows a registry only where tsws came from one", () => {
    expect(tswsSpec(installed('no-lock', { 'package.json': { dependencies: { tsws: 'file:vendor/tsws.tgz' } } }))).toBe(`file:${path.join(root, 'no-lock/vendor/tsws.tgz')}`);
    const git = 'git+ssh://git@example.com/org/tsws.git#0123456789abcdef0123456789abcdef01234567';
    expect(tswsSpec(installed('git', { 'package-lock.json': { packages: { 'node_modules/tsws': { resolved: git } } } }))).toBe(git);
    const registry = installed('registry', { 'package-lock.json': { packages: { 'node_modules/tsws': { resolved: `https://registry.example/tsws/-/tsws-${VERSION}.tgz` } } } });
    expect(tswsSpec(registry)).toBe(`^${VERSION}`);
  });

  it('is the checkout itself when tsws runs from its sources, and a coded error when nothing says where it came from', () => {
    expect(tswsSpec('/src/tsws')).toBe('file:/src/tsws');
    const unknown = installed('bare', {});
    expect(() => tswsSpec(unknown)).toThrow(expect.objectContaining({ code: 'TSWS_ERR_INIT_TSWS_SOURCE' }) as Error);
    try {
      tswsSpec(unknown);
    } catch (err) {
      expect(isTswsError(err, 'TSWS_ERR_INIT_TSWS_SOURCE')).toBe(true);
    }
  });
});
