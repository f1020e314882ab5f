/** @module The machine and software versions a run is measured on, for the head of RESULTS.md. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeRuntime, type Runtime } from './runtime.ts';

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    // wrk -v prints its version and exits 1.
    const out = (err as { stdout?: string }).stdout ?? '';
    return out.trim() || 'unknown';
  }
}

const readText = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return 'unknown';
  }
};

const pkgVersion = (repo: string, name: string) => {
  const pkg = JSON.parse(readText(path.join(repo, 'node_modules', name, 'package.json'))) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
};

/** `runtimes`: each one's Node and the uWS.js build tsws and raw uWS.js load there (server/transport/uws/build.ts picks it by Node major). */
export function environment(repo: string, runtimes: readonly Runtime[]): [string, string][] {
  const cpus = os.cpus();
  return [
    ['CPU', `${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (shared with other jobs: ratios within one run are what counts)`],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['kernel', `${os.type()} ${os.release()}, TCP congestion control ${readText('/proc/sys/net/ipv4/tcp_congestion_control')}`],
    ['open-file limit', run('sh', ['-c', 'ulimit -n'])],
    ...runtimes.map((rt): [string, string] => [`${rt.label}: Node, uWebSockets.js`, `${describeRuntime(repo, rt)}; ${rt.how}`]),
    ['ws', pkgVersion(repo, 'ws')],
    ['tsws', `${(JSON.parse(readText(path.join(repo, 'package.json'))) as { version: string }).version} at ${run('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}`],
    ['libwebsockets-test-server', run('dpkg-query', ['-W', '-f', '${Version}', 'libwebsockets-test-server'])],
    ['wrk', run('wrk', ['-v']).split('\n')[0] ?? 'unknown'],
    ['nginx', run('dpkg-query', ['-W', '-f', '${Version}', 'nginx'])],
    ['OpenSSL (the load generator\'s TLS)', run('openssl', ['version'])],
    ['gcc (builds the load generator)', run('gcc', ['-dumpfullversion'])],
  ];
}
