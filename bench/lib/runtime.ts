/** @module The Node runtimes a run measures: this machine's Node, and Node 24 (the runtime tsws ships) as bench/node24.sh prepared it. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Runtime {
  /** "20", "24": the Node major, as `--node` names it. */
  readonly major: string;
  /** "Node 20": the column heading in RESULTS.md. */
  readonly label: string;
  /** The node binary (or launcher) Node contenders start with. */
  readonly node: string;
  /** Environment for Node contenders: bin/tsws.mjs finds `node` through PATH (its #! line). */
  readonly env: NodeJS.ProcessEnv;
  /** How RESULTS.md says the contenders were started on it. */
  readonly how: string;
  /**
   * Extra Node flags for tsws contenders (the profiler's --cpu-prof, which
   * Node 20 refuses in NODE_OPTIONS): tsws then starts as `node <its #! flags>
   * <these> bin/tsws.mjs` instead of through its #! line.
   */
  readonly nodeFlags?: readonly string[];
}

const hostMajor = process.versions.node.split('.')[0] ?? '?';

/** This machine's Node, and Node 24 when bench/node24.sh set it up. */
export function availableRuntimes(repo: string): Runtime[] {
  const host: Runtime = { major: hostMajor, label: `Node ${hostMajor}`, node: process.execPath, env: process.env, how: `this machine's Node (${process.execPath})` };
  const dir = path.join(repo, 'bench', '.work', 'node24');
  const launcher = path.join(dir, 'bin', 'node');
  if (hostMajor === '24' || !fs.existsSync(launcher)) return [host];
  const node24: Runtime = {
    major: '24',
    label: 'Node 24',
    node: launcher,
    // NODE_PATH: where bench/node24.sh put the locked @uwsjs/linux-x64-24 (npm ci on Node 20 installs only the Node 20 build).
    env: { ...process.env, PATH: `${path.dirname(launcher)}:${process.env.PATH ?? ''}`, NODE_PATH: path.join(dir, 'node_modules') },
    how: 'Node 24 from the Debian 13 tree of .ci/debian13-rootfs.sh, run by that tree\'s dynamic loader and glibc (bench/node24.sh): bench/.work/node24/bin/node first in PATH, NODE_PATH=bench/.work/node24/node_modules',
  };
  return [host, node24];
}

/** Why `--node 24` cannot run here, for the error message. */
export const NODE24_MISSING = 'bench/.work/node24 is missing: bench/setup.sh runs bench/node24.sh, which needs the Debian 13 tree of .ci/debian13-rootfs.sh (TSWS_BENCH_NODE24=0 skips it)';

/** Node version and the uWS.js build tsws loads on this runtime, for the environment table. */
export function describeRuntime(repo: string, rt: Runtime): string {
  const script =
    "const { loadBuild } = await import('./server/transport/uws/build.ts'); const { build } = loadBuild(); " +
    "console.log(`${process.version}; ${build.package}: uWS.js ${build.uws}, Node ABI ${build.abi}, uws.node sha256 ${build.sha256.slice(0, 16)}`);";
  try {
    return execFileSync(rt.node, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, env: rt.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0] ?? ''})`;
  }
}
