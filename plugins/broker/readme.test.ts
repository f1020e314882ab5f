import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { options } from './broker.ts';

const here = import.meta.dirname;
const readme = fs.readFileSync(path.join(here, 'README.md'), 'utf8');

/** The text of `## <title>` up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README.md stays true', () => {
  it('lists every option of the broker protocol with its default', () => {
    const rows = [...section('Options (`broker`)').matchAll(/^\| `([a-z-]+)` \| ([^|]+) \|/gm)].map((m) => [m[1], (m[2] ?? '').trim()]);
    const expected = Object.entries(options).map(([k, spec]) => [k, spec.default === '' ? 'none' : `\`${String(spec.default)}\``.replace(/^`(\d+)`$/, '$1')]);
    expect(rows).toEqual(expected);
  });

  it('shows the example config of server a as it is shipped (comments aside)', () => {
    const shown = /```\n(\{\n {2}"vhosts"[\s\S]*?)```/.exec(section('Setting it up'))?.[1] ?? '';
    const shipped = fs.readFileSync(path.join(here, 'examples/conf-a/conf.d/broker'), 'utf8').replace(/^\s*#.*$/gm, '');
    expect(JSON.parse(shown)).toEqual(JSON.parse(shipped));
  });
});
