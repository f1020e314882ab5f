import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_REFERENCE, spliceConfigReference } from '../scripts/config-doc.ts';
import { REPO } from './helpers/process.ts';

/** The page holding the conformance table (measured by scripts/transport-candidates.ts). */
const TRANSPORT_PAGE = path.join(REPO, 'docs/reference/transport.md');

/** README.md, docs/**, and the plugins' and benchmarks' own pages: every markdown file a reader follows links through. */
function markdownFiles(): string[] {
  const under = (dir: string): string[] =>
    fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      return e.isDirectory() ? under(rel) : e.name.endsWith('.md') ? [rel] : [];
    });
  const plugins = fs.readdirSync(path.join(REPO, 'plugins')).map((p) => path.join('plugins', p, 'README.md'));
  return ['README.md', ...under('docs'), ...plugins.filter((f) => fs.existsSync(path.join(REPO, f))), ...under('bench').filter((f) => !f.includes('/.'))];
}

/** The lines outside fenced code blocks, with inline code spans blanked. */
function prose(text: string): string[] {
  let fence = false;
  return text.split('\n').flatMap((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fence = !fence;
      return [];
    }
    return fence ? [] : [line.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length))];
  });
}

/** GitHub's heading ids (github-slugger): the rendered text lower-cased, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    if (fence) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) ids.add(m[1] as string);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const rendered = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    ids.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return ids;
}

describe('the docs', () => {
  it('README.md stays at most 15 KB: what tsws is, the two commands, a small plugin, links', () => {
    expect(fs.statSync(path.join(REPO, 'README.md')).size).toBeLessThanOrEqual(15 * 1024);
  });

  it('have no dead relative link: every file exists and every #anchor is a heading of its page', () => {
    const dead: string[] = [];
    const anchors = new Map<string, Set<string>>();
    const anchorsIn = (file: string) => {
      if (!anchors.has(file)) anchors.set(file, anchorsOf(fs.readFileSync(file, 'utf8')));
      return anchors.get(file) as Set<string>;
    };
    const files = markdownFiles();
    expect(files).toContain(path.join('docs', 'architecture.md'));
    for (const rel of files) {
      const file = path.join(REPO, rel);
      prose(fs.readFileSync(file, 'utf8')).forEach((line) => {
        for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
          const link = m[1] as string;
          if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:, file:
          const [target = '', anchor] = link.split('#');
          const to = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
          if (!to.startsWith(REPO) || !fs.existsSync(to)) dead.push(`${rel}: ${link} (no such file)`);
          else if (anchor !== undefined && to.endsWith('.md') && !anchorsIn(to).has(anchor)) dead.push(`${rel}: ${link} (no such heading)`);
        }
      });
    }
    expect(dead).toEqual([]);
  });

  it('slug headings as GitHub does', () => {
    const ids = anchorsOf('# uWebSockets.js: where it comes from\n## HTTP callbacks (callback:// mounts)\n### `TSWS_ERR_X` and **more**\n## Faults\n## Faults\n```\n# not a heading\n```');
    expect([...ids]).toEqual(['uwebsocketsjs-where-it-comes-from', 'http-callbacks-callback-mounts', 'tsws_err_x-and-more', 'faults', 'faults-1']);
  });
});

describe('docs/reference/configuration.md', () => {
  it('matches server/config/schema.ts (run npm run docs after editing)', () => {
    const page = fs.readFileSync(CONFIG_REFERENCE, 'utf8');
    expect(page).toBe(spliceConfigReference(page));
  });
});

describe('the conformance table of docs/reference/transport.md', () => {
  it('lists, for each shipped uWS.js build, exactly the it.fails cases of the conformance suite', async () => {
    const { DEVIATIONS } = await import('./transport-deviations.ts');
    const { BUILDS } = await import('../server/transport/uws/build.ts');
    const page = fs.readFileSync(TRANSPORT_PAGE, 'utf8');
    const table = /<!-- conformance-table -->\n([^]*?)\n<!-- \/conformance-table -->/.exec(page)?.[1] ?? '';
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
