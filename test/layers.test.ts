/**
 * @module The layers of server/ run one way: dependency-cruiser, with the rules of .dependency-cruiser.cjs, finds no upward import and no cycle, and finds them when they are there.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const rules = require(path.join(REPO, '.dependency-cruiser.cjs')) as IConfiguration & { LAYERS: string[] };

/** Runs dependency-cruiser over `dir`'s server/ with the project's rules; returns "rule: from -> to" lines. */
async function violations(dir: string): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { output } = await cruise(['server'], { validate: true, ruleSet: { forbidden: rules.forbidden }, ...rules.options });
    const result = output as ICruiseResult;
    return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
  } finally {
    process.chdir(cwd);
  }
}

/** A throwaway tree: server/<file> with the given sources, and a tsconfig like ours. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-layers-'));
  fs.copyFileSync(path.join(REPO, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  for (const [name, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'server', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'server', name), src);
  }
  return dir;
}

describe('server/ layers', () => {
  it('has no upward import, no cycle and no folder outside the layer list', async () => {
    expect(await violations(REPO)).toEqual([]);
  }, 60_000);

  it('names every folder of server/ in the layer list', () => {
    const folders = fs.readdirSync(path.join(REPO, 'server'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.filter((f) => !rules.LAYERS.includes(f))).toEqual([]);
  });

  it('fails on a deliberate upward import, a cycle and an import of the top-level wiring', async () => {
    const dir = tree({
      'base/low.ts': "import { x } from '../session/high.ts';\nexport const y = x;\n",
      'session/high.ts': 'export const x = 1;\n',
      'http/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'http/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      'vhost/v.ts': "import { m } from '../main.ts';\nexport const v = m;\n",
      'main.ts': 'export const m = 1;\n',
    });
    try {
      const found = await violations(dir);
      expect(found).toContain('layer-base: server/base/low.ts -> server/session/high.ts');
      expect(found).toContain('no-cycle: server/http/a.ts -> server/http/b.ts');
      expect(found).toContain('layer-vhost: server/vhost/v.ts -> server/main.ts');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
