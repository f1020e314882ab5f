/**
 * @module Runs the transport conformance suite against every candidate uWS.js binary this Node can load and prints the table.
 *
 *   npm run transport:candidates            # on this machine's Node
 *   .ci/in-debian13.sh <rootfs> 'npm ci && npm run transport:candidates'   # on Node 24
 *
 * Each candidate is fetched from the npm registry with `npm pack` (cached in
 * .cache/transport-candidates), its binary for this platform and Node ABI is
 * picked, and the suite runs with TSWS_UWS_BINARY pointing at it: no case is
 * marked as a known deviation there, so every failure counts. The table of
 * docs/reference/transport.md comes from this output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface Candidate {
  readonly spec: string;
  /** The binary inside the extracted package for this platform and Node, or undefined when it has none. */
  readonly binary: (dir: string) => string | undefined;
}

const platform = `${process.platform}-${process.arch}`;
const major = Number(process.versions.node.split('.')[0]);
const abi = process.versions.modules;
const flat = (dir: string) => path.join(dir, `uws_${process.platform}_${process.arch}_${abi}.node`);

const CANDIDATES: readonly Candidate[] = [
  { spec: 'uwebsockets@3.0.6', binary: (d) => flat(d) },
  { spec: '@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0', binary: (d) => path.join(d, 'binaries', path.basename(flat(d))) },
  { spec: `@uwsjs/${platform}-${major}@20.51.4`, binary: (d) => path.join(d, 'uws.node') },
  { spec: `@uwsjs/${platform}-${major}@20.69.0`, binary: (d) => path.join(d, 'uws.node') },
];

const repo = path.resolve(import.meta.dirname, '..');
const cache = path.join(repo, '.cache/transport-candidates');

/** The package unpacked under the cache, or undefined when the registry has no such version (no binary for this Node). */
function fetchPackage(spec: string): string | undefined {
  const dir = path.join(cache, spec.replace(/[@/]/g, '_'));
  if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  try {
    const tgz = execFileSync('npm', ['pack', '--silent', spec], { cwd: cache, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop() as string;
    execFileSync('tar', ['xzf', path.join(cache, tgz), '-C', dir, '--strip-components=1']);
    fs.rmSync(path.join(cache, tgz));
    return dir;
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

interface Result {
  readonly name: string;
  readonly passed: boolean;
}

function runSuite(binary: string, id: string): Result[] | string {
  const out = path.join(cache, `${id.replace(/[@/]/g, '_')}.json`);
  const run = spawnSync('npx', ['vitest', 'run', 'test/transport-conformance.test.ts', '--reporter=json', `--outputFile=${out}`], {
    cwd: repo,
    env: { ...process.env, TSWS_UWS_BINARY: binary, TSWS_UWS_BUILD_ID: id },
    encoding: 'utf8',
  });
  if (!fs.existsSync(out)) return `did not run: ${(run.stderr || run.stdout).split('\n').find((l) => /Error/.test(l)) ?? run.status}`;
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { testResults: { assertionResults: { title: string; status: string }[] }[] };
  return report.testResults.flatMap((f) => f.assertionResults.map((a) => ({ name: a.title, passed: a.status === 'passed' })));
}

fs.mkdirSync(cache, { recursive: true });
const columns: { id: string; results: Result[] | string }[] = [];
for (const c of CANDIDATES) {
  const dir = fetchPackage(c.spec);
  const binary = dir && c.binary(dir);
  if (!binary || !fs.existsSync(binary)) {
    columns.push({ id: c.spec, results: `no binary for Node ${major} (ABI ${abi}) on ${platform}` });
    continue;
  }
  process.stderr.write(`running the suite on ${c.spec} (${path.relative(repo, binary)})\n`);
  columns.push({ id: c.spec, results: runSuite(binary, c.spec) });
}

const ran = columns.filter((c): c is { id: string; results: Result[] } => typeof c.results !== 'string');
const names = [...new Set(ran.flatMap((c) => c.results.map((r) => r.name)))];
const lines = [
  `Node ${process.versions.node} (ABI ${abi}), ${platform}, glibc ${(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ?? '-'}`,
  '',
  `| case | ${ran.map((c) => c.id).join(' | ')} |`,
  `| --- | ${ran.map(() => '---').join(' | ')} |`,
  ...names.map((n) => `| ${n} | ${ran.map((c) => (c.results.find((r) => r.name === n)?.passed ? 'yes' : '**no**')).join(' | ')} |`),
  `| **deviations** | ${ran.map((c) => c.results.filter((r) => !r.passed).length).join(' | ')} |`,
  '',
  ...columns.filter((c) => typeof c.results === 'string').map((c) => `- ${c.id}: ${c.results as string}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
