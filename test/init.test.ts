import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION } from '../server/base/version.ts';
import { contextCopies, copyContext, dockerignore, execForm, parseDockerfile } from './helpers/dockerfile.ts';
import { REPO, killAll, runLogged, runTswsToEnd } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

const exec = promisify(execFile);
const temps: string[] = [];
const temp = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => {
  killAll();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

const PROJECT_FILES = ['.dockerignore', '.gitignore', 'Dockerfile', 'conf', 'conf.d/localhost', 'package.json', 'plugins/hello/README.md', 'plugins/hello/hello.test.ts', 'plugins/hello/hello.ts', 'tsconfig.json'];

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

describe('tsws init', () => {
  it('writes a project: config on port 7681, the hello plugin with its test and README, package.json, tsconfig.json, Dockerfile', async () => {
    const dir = path.join(temp('tsws-init-'), 'my app');
    const r = await runTswsToEnd(['init', dir]);
    expect(r.code).toBe(0);
    expect(filesUnder(dir)).toEqual(PROJECT_FILES);
    expect(r.stdout).toContain(`wrote ${PROJECT_FILES.length} files`);
    expect(fs.readFileSync(path.join(dir, 'conf.d/localhost'), 'utf8')).toMatch(/"port": "7681"[^]*"hello"/);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(pkg.name).toBe('my-app');
    expect(pkg.type).toBe('module');
    // Run from this checkout: the project depends on the checkout, not on a registry range (tsws is not published).
    expect(pkg.dependencies).toEqual({ tsws: `file:${REPO}` });
    expect(Object.keys(pkg.scripts ?? {}).sort()).toEqual(['check', 'start', 'test']);
    expect(Object.keys(pkg.devDependencies ?? {}).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    expect(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(`ARG TSWS_IMAGE=tsws:${VERSION}`);
    // What it wrote passes --check (the types of hello.ts included) before anything is installed but @types/node.
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    const check = await runTswsToEnd(['-c', dir, '--check', '--strict']);
    expect(check.stderr).toMatch(/^OK: 0 error\(s\), 0 warning\(s\); 1 plugin file\(s\) loaded$/m);
  }, 120_000);

  it('adds to a package.json already there (npm init, npm install tsws) and refuses, writing nothing, to overwrite a file', async () => {
    const dir = temp('tsws-init-');
    const before = { name: 'mine', version: '1.2.3', type: 'commonjs', scripts: { lint: 'eslint .' }, dependencies: { tsws: 'file:../tsws-0.1.0.tgz' } };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(before));
    expect((await runTswsToEnd(['init'], { cwd: dir })).code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof before;
    expect(pkg).toMatchObject({ name: 'mine', version: '1.2.3', type: 'commonjs', dependencies: { tsws: 'file:../tsws-0.1.0.tgz' } });
    expect(Object.keys(pkg.scripts).sort()).toEqual(['check', 'lint', 'start', 'test']);

    const other = temp('tsws-init-');
    fs.mkdirSync(path.join(other, 'plugins/hello'), { recursive: true });
    fs.writeFileSync(path.join(other, 'plugins/hello/hello.ts'), '// mine');
    const refused = await runTswsToEnd(['init', other]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error TSWS_ERR_INIT_EXISTS: tsws init: .* already has plugins\/hello\/hello\.ts; nothing was written/m);
    expect(filesUnder(other)).toEqual(['plugins/hello/hello.ts']);
  });

  it("stops, writing nothing, rather than replace the user's start and test scripts; --force replaces them and still keeps their type", async () => {
    const dir = temp('tsws-init-');
    const before = `${JSON.stringify({ name: 'cjs', type: 'commonjs', scripts: { start: 'node index.js', test: 'node --test', check: 'tsws -c . --check' } }, null, 2)}\n`;
    fs.writeFileSync(path.join(dir, 'package.json'), before);
    fs.writeFileSync(path.join(dir, 'index.js'), "const path = require('node:path'); console.log(path.basename(__filename));\n");
    const refused = await runTswsToEnd(['init', '.'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error TSWS_ERR_INIT_SCRIPTS: tsws init: .*package\.json already has scripts\.start \(yours: "node index\.js", tsws's: "tsws -c \."\), scripts\.test \(yours: "node --test", .*; nothing was written/m);
    expect(refused.stderr).not.toContain('scripts.check'); // the same value is no clash
    expect(filesUnder(dir)).toEqual(['index.js', 'package.json']);
    expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(before);

    expect((await runTswsToEnd(['init', '.', '--force'], { cwd: dir })).code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type: string; scripts: Record<string, string> };
    expect(pkg.type).toBe('commonjs');
    expect(pkg.scripts).toEqual({ start: 'tsws -c .', test: 'tsc --noEmit && vitest run', check: 'tsws -c . --check' });
    // The user's CommonJS code still runs: init did not make the package an ES module one.
    expect((await exec(process.execPath, ['index.js'], { cwd: dir })).stdout).toBe('index.js\n');
  });

  it('reads a package.json that starts with a byte order mark, as npm does, and names the file it cannot parse', async () => {
    const dir = temp('tsws-init-');
    fs.writeFileSync(path.join(dir, 'package.json'), `\uFEFF${JSON.stringify({ name: 'bom', dependencies: { tsws: 'file:../tsws.tgz' } })}`);
    expect((await runTswsToEnd(['init'], { cwd: dir })).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))).toMatchObject({ name: 'bom', scripts: { start: 'tsws -c .' } });

    const broken = temp('tsws-init-');
    fs.writeFileSync(path.join(broken, 'package.json'), '{"name": "broken",}');
    const r = await runTswsToEnd(['init', broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error TSWS_ERR_INIT_PACKAGE_JSON: tsws init: cannot read ${path.join(broken, 'package.json')}: .*JSON.*; nothing was written`, 'm'));
    expect(filesUnder(broken)).toEqual(['package.json']);
  });

  it("builds an image on tsws's own: its Dockerfile's COPY lines and CMD serve hello with the base image's tsws and health check", async () => {
    const project = temp('tsws-init-');
    expect((await runTswsToEnd(['init', project])).code).toBe(0);
    // No Docker engine here (see container-contract.test.ts): what the build would put in
    // /etc/tsws is copied into a directory standing for it; /app, the base image, is this repo.
    const [stage, ...more] = parseDockerfile(fs.readFileSync(path.join(project, 'Dockerfile'), 'utf8'));
    expect(more).toEqual([]);
    expect(stage?.from).toBe('${TSWS_IMAGE}');
    const etc = temp('tsws-etc-');
    const ignored = dockerignore(fs.readFileSync(path.join(project, '.dockerignore'), 'utf8'));
    for (const { sources, dest } of contextCopies(stage as NonNullable<typeof stage>)) {
      expect(dest.startsWith('/etc/tsws/')).toBe(true);
      for (const src of sources) copyContext(project, src, path.join(etc, dest.slice('/etc/tsws/'.length)), ignored);
    }
    expect(filesUnder(etc)).toEqual(['conf', 'conf.d/localhost', 'plugins/hello/README.md', 'plugins/hello/hello.ts']);
    // The one deviation, as in the container contract: the fixed ports become free ones.
    for (const [file, port] of [['conf', '9464'], ['conf.d/localhost', '7681']] as const) {
      const text = fs.readFileSync(path.join(etc, file), 'utf8');
      expect(text).toContain(`"port": "${port}"`);
      fs.writeFileSync(path.join(etc, file), text.replace(`"port": "${port}"`, '"port": "0"'));
    }
    const place = (a: string) => a.replace(/^\/app(?=\/)/, REPO).replace(/^\/etc\/tsws$/, etc);
    const [cmd, ...args] = execForm(stage?.instructions.find((i) => i.op === 'CMD')?.args ?? '').map(place);
    expect(cmd).toBe('node');
    const server = runLogged(process.execPath, args, { cwd: REPO, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent', NODE_ENV: 'production' } });
    const listeners = await server.ready;
    const port = listeners.find((l) => l.vhosts.includes('localhost'))?.port;
    const c = await TestClient.open(`ws://127.0.0.1:${port}/`, 'hello');
    c.send('image');
    expect(await c.nextText()).toBe('hello, image');
    await c.close();
    // The base image's HEALTHCHECK command, pointed at this port.
    const health = await exec(process.execPath, [path.join(REPO, 'bin/healthcheck.mjs')], { env: { TSWS_HEALTH_URL: `http://127.0.0.1:${port}/healthz` } });
    expect(health.stdout).toMatch(/: 200 ok$/m);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);
});
