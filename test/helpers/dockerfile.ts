/** @module Reads the repo's Dockerfile and .dockerignore, so a test can do what an image build and `docker run` would. */
import fs from 'node:fs';
import path from 'node:path';

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ENV, CMD... */
  readonly op: string;
  /** The rest of the instruction, continuation lines joined. */
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** Instructions per stage; `\` continuations joined, comment lines dropped (also inside continuations, as Docker does). */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const l of logical) {
    if (l === '') continue;
    const op = l.split(/\s+/)[0] ?? '';
    const args = l.slice(op.length).trim();
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2], instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    // An ARG before the first FROM only parameterises FROM lines (a derived image's base).
    if (!stage && op.toUpperCase() === 'ARG') continue;
    if (!stage) throw new Error(`Dockerfile: ${op} before FROM`);
    stage.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** An exec-form (JSON array) command, e.g. CMD ["node", "bin/tsws.mjs"]. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not an exec-form command: ${args}`);
  return parsed;
}

/** ENV KEY=value lines (the key=value form only). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions) {
    if (i.op !== 'ENV') continue;
    for (const [, k, v] of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[k as string] = (v as string).replace(/^"|"$/g, '');
  }
  return env;
}

/** COPY instructions from the build context (not --from another stage): sources and destination. */
export function contextCopies(stage: Stage): { readonly sources: string[]; readonly dest: string }[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .map((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return { sources: parts.slice(0, -1), dest: parts[parts.length - 1] as string };
    });
}

/** .dockerignore as a predicate on context-relative paths ("plugins/x/a.test.ts"); later patterns win, "!" re-includes. */
export function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = path.posix.normalize((include ? l.slice(1) : l).replace(/^\/+/, ''));
      const re = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((tok) => (tok === '**/' ? '(?:.*/)?' : tok === '**' ? '.*' : tok === '*' ? '[^/]*' : tok === '?' ? '[^/]' : tok.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { include, re: new RegExp(`^${re}$`) };
    });
  return (rel) => {
    // A path is excluded when it or any directory above it matches.
    const prefixes = rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.include;
    return excluded;
  };
}

/** Copies `src` (file or directory, relative to `context`) to `dest`, leaving out what `ignored` says, as `docker build` sends the context. */
export function copyContext(context: string, src: string, dest: string, ignored: (rel: string) => boolean): void {
  const rel = path.posix.normalize(src.replace(/\/+$/, ''));
  if (ignored(rel)) throw new Error(`${src} is excluded by .dockerignore but the Dockerfile copies it`);
  fs.cpSync(path.join(context, rel), dest, {
    recursive: true,
    filter: (from) => !ignored(path.relative(context, from).split(path.sep).join('/')),
  });
}
