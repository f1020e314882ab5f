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
