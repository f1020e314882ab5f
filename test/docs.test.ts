import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spliceReadme } from '../scripts/config-doc.ts';
import { REPO } from './helpers/process.ts';

describe('README config reference', () => {
  it('matches server/config/schema.ts (run npm run docs after editing)', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(readme).toBe(spliceReadme(readme));
  });
});

describe('README conformance table', () => {
  it('lists, for each shipped uWS.js build, exactly the it.fails cases of the conformance suite', async () => {
    const { DEVIATIONS } = await import('./transport-deviations.ts');
    const { BUILDS } = await import('../server/transport/uws/build.ts');
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const table = /<!-- conformance-table -->\n([^]*?)\n<!-- \/conformance-table -->/.exec(readme)?.[1] ?? '';
    const rows = table.split('\n').filter((l) => l.startsWith('| ')).map((l) => l.slice(2, -2).split(' | '));
    const [head = [], , ...body] = rows;
    const suite = fs.readFileSync(path.join(REPO, 'test/transport-conformance.test.ts'), 'utf8');
    const cases = [...suite.matchAll(/conforms\(\s*[`'"](.*?)[`'"],/g)].map((m) => m[1] as string);
    // Interpolated case names: the header-name cases are one per character.
    const expanded = cases.flatMap((c) => (c.includes('${ch}') ? ['_', '.', '~', '!', '#'].map((ch) => c.replace('${ch}', ch)) : [c]));
    const caseRows = body.filter((r) => !(r[0] ?? '').startsWith('**'));
    expect(new Set(caseRows.map((r) => r[0]))).toEqual(new Set(expanded));
    for (const build of BUILDS) {
      const column = head.findIndex((h) => h.includes(`linux-x64-${build.nodeMajor}@${build.version}`));
      expect(column, `a column for ${build.id}`).toBeGreaterThan(0);
      const deviating = caseRows.filter((r) => (r[column] ?? '').startsWith('**no')).map((r) => r[0]);
      expect(new Set(deviating)).toEqual(new Set(Object.keys(DEVIATIONS[build.id] ?? {})));
    }
  });
});
