/** @module The uWS.js build: which one loads, its pinned checksum, the start-up line naming it, and the coded refusal where none can load. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILDS, TransportUnavailable, glibcNeededBy, loadBuild } from '../server/transport/uws/build.ts';
import { transportBuild } from '../server/transport/uws/uws-adapter.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { killAll, runTsws, runTswsToEnd } from './helpers/process.ts';

/**
 * sha256 of every uws.node we ship, by build and platform. A binary that
 * changes under the same version (a republished package, a tampered mirror)
 * fails here until someone has looked at it and updated this table and the
 * docs/reference/transport.md.
 */
const PINNED: Record<string, Record<string, string>> = {
  'uws-20.67.0': { 'linux-x64': '177efdc682425d754474bd30f9586c487fa6694f790f3406a23885d0e61c07a0' },
  'uws-20.51.0': { 'linux-x64': '4d482084b665c225892917ee0e9b9572d89eaa6f3dc200ff5e536293d3456c89' },
};

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/** The refusal loadBuild throws for these inputs. */
function refusal(inputs: Parameters<typeof loadBuild>[0]): TransportUnavailable {
  try {
    loadBuild(inputs);
  } catch (err) {
    if (err instanceof TransportUnavailable) return err;
    throw err;
  }
  throw new Error('loaded');
}

describe('the uWS.js build', () => {
  it('is the one shipped for this Node, with the pinned checksum', () => {
    const build = transportBuild();
    const major = Number(process.versions.node.split('.')[0]);
    expect(build.id).toBe(BUILDS.find((b) => b.nodeMajor === major)?.id);
    expect(build.sha256).toBe(PINNED[build.id]?.[`${process.platform}-${process.arch}`]);
    expect(build.abi).toBe(process.versions.modules);
  });

  it('is named at start-up (package, uWS.js release, Node ABI, file and sha256), with a warning on the legacy Node 20', async () => {
    const server = runTsws(['-c', demoConfigDir()]);
    const line = await server.waitFor((l) => l.event === 'transport');
    const build = transportBuild();
    expect(line).toMatchObject({ package: build.package, uws: build.uws, abi: build.abi, node: build.node, sha256: build.sha256, file: build.file });
    await server.ready;
    // Node 20 serves, but says it is past its end of life; Node 24 says nothing of the kind.
    const legacy = server.lines.filter((l) => l.code === 'TSWS_WARN_LEGACY_RUNTIME');
    expect(legacy.length).toBe(build.node.startsWith('20.') ? 1 : 0);
    server.kill();
    expect(await server.exited).toBe(0);
  });

  it('refuses a Node with no build, naming the ones there are', () => {
    const e = refusal({ node: '22.3.0', override: undefined });
    expect(e.facts.node).toBe('22.3.0');
    expect(e.message).toMatch(/Node 24 \(uws-20\.67\.0\) and Node 20 \(uws-20\.51\.0\) only/);
  });

  it('refuses Node 24 on a glibc older than its binary needs, naming both versions', () => {
    const e = refusal({ node: '24.11.0', glibc: '2.36', override: undefined });
    // Where npm did not install the Node 24 package (a Node 20 host), that is what it says instead.
    if (/not installed/.test(e.message)) expect(e.message).toMatch(/@uwsjs\/linux-x64-24@20\.69\.0 is not installed: npm installs it with Node 24/);
    else expect(e.message).toMatch(/needs glibc 2\.38/);
    expect(e.facts).toMatchObject({ glibcFound: '2.36', glibcNeeded: '2.38', build: '@uwsjs/linux-x64-24@20.69.0' });
  });

  it('reads the missing glibc version out of the loader error', () => {
    expect(glibcNeededBy("/app/uws.node: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /app/uws.node)")).toBe('2.38');
    expect(glibcNeededBy('invalid ELF header')).toBeUndefined();
  });

  it('fails start-up and --check with TSWS_ERR_TRANSPORT_UNAVAILABLE, never a loader stack trace', async () => {
    const junk = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-uws-')), 'uws.node');
    fs.writeFileSync(junk, 'not a shared object');
    const env = { TSWS_UWS_BINARY: junk };
    const server = runTsws(['-c', demoConfigDir()], { env });
    expect(await server.exited).toBe(1);
    const fatal = server.lines.find((l) => l.code === 'TSWS_ERR_TRANSPORT_UNAVAILABLE');
    expect(fatal?.msg).toMatch(/uWebSockets\.js cannot load on Node .* here \(glibc .* found/);
    expect(server.stderr.join('')).not.toMatch(/\n\s+at /);
    const check = await runTswsToEnd(['-c', demoConfigDir(), '--check'], { env });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/error TSWS_ERR_TRANSPORT_UNAVAILABLE: uWebSockets\.js cannot load/);
    fs.rmSync(path.dirname(junk), { recursive: true, force: true });
  });
});
