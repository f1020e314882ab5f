import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextCopies, copyContext, dockerignore, envOf, execForm, parseDockerfile, type Stage } from './helpers/dockerfile.ts';
import { REPO, killAll, runLogged, type TswsProcess } from './helpers/process.ts';
import { sample } from './helpers/prom.ts';
import { TestClient } from './helpers/ws-client.ts';

/**
 * No Docker engine runs here, so this test does what building and running the
 * image would, from the Dockerfile itself:
 * - the final stage's COPY lines copy the context into a fresh directory
 *   standing for /app, leaving out what .dockerignore leaves out;
 * - the deps stage's commands run there for real: `npm ci --omit=dev` (only
 *   production dependencies exist, so only they resolve) and the prune script;
 * - the CMD runs with the Dockerfile's ENV (NODE_ENV=production) and nothing
 *   else in its environment, as an unprivileged user (`nobody` through setpriv
 *   when the tests run as root; otherwise the user running them);
 * - the HEALTHCHECK command, the metrics port and a websocket round trip are
 *   checked against it, then STOPSIGNAL stops it.
 * The one deviation: the config's fixed ports (7681, 9464) become 0, since
 * others use them on this machine; "/app" in the commands is the directory.
 */
const exec = promisify(execFile);
const stages = parseDockerfile(fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
const [deps, final] = [stages[0] as Stage, stages[stages.length - 1] as Stage];
const ops = (op: string) => final.instructions.filter((i) => i.op === op).map((i) => i.args);
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

let app: string;
let server: TswsProcess;
let ports: { vhost: number; metrics: number };
/** Runs a command of the image as its unprivileged user, in /app. */
let asUser: (argv: readonly string[]) => { command: string; args: string[] };

const inApp = (argv: readonly string[]) => argv.map((a) => a.replace(/^\/app(?=\/|$)/, app));

beforeAll(async () => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-image-'));
  fs.chmodSync(app, 0o755);
  const ignored = dockerignore(fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
  expect(ops('WORKDIR')).toEqual(['/app']);
  for (const { sources, dest } of contextCopies(final)) {
    // Destinations outside /app (the logrotate config) are not part of what runs.
    if (dest.startsWith('/') && !dest.startsWith('/app')) continue;
    const target = path.resolve(app, dest.replace(/^\/app\/?/, ''));
    for (const src of sources) copyContext(REPO, src, sources.length > 1 || dest.endsWith('/') ? path.join(target, path.basename(src)) : target, ignored);
  }
  // The deps stage, for real: its RUN line must still be this command.
  const run = deps.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
  expect(run).toContain('npm ci --omit=dev');
  await exec('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
  // The final stage's RUN mkdir/chown, for whoever plays the image's user.
  expect(ops('RUN').join(' ')).toContain('mkdir -p /app/var');
  fs.mkdirSync(path.join(app, 'var'));
  if (IS_ROOT) fs.chownSync(path.join(app, 'var'), NOBODY, NOBODY);
  for (const [file, from] of [['conf', '"port": "9464"'], ['conf.d/localhost', '"port": "7681"']] as const) {
    const text = fs.readFileSync(path.join(app, file), 'utf8');
    expect(text).toContain(from);
    fs.writeFileSync(path.join(app, file), text.replace(from, '"port": "0"'));
  }

  asUser = (argv) => {
    const [cmd = '', ...rest] = inApp(argv);
    // "node" in the image is the one on PATH; here, the one running the tests.
    const node = cmd === 'node' ? process.execPath : cmd;
    return IS_ROOT
      ? { command: 'setpriv', args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', node, ...rest] }
      : { command: node, args: rest };
  };
  const { command, args } = asUser(execForm(ops('CMD')[0] ?? ''));
  server = runLogged(command, args, { cwd: app, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent', ...envOf(final) } });
  const listeners = await server.ready;
  ports = {
    vhost: listeners.find((l) => l.vhosts.includes('localhost'))?.port ?? 0,
    // From the "ready" line: a serving thread's own "listening" lines may reach stdout after it.
    metrics: listeners.find((l) => (l as { key?: string }).key?.startsWith('metrics'))?.port ?? 0,
  };
}, 180_000);

afterAll(() => {
  killAll();
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

describe("the image's contract, without an image", () => {
  it('installs production dependencies only, with the one uWS.js binary for this platform and Node', () => {
    const modules = fs.readdirSync(path.join(app, 'node_modules'));
    for (const dep of ['tsx', 'pino', 'prom-client', '@uwsjs']) expect(modules).toContain(dep);
    for (const dev of ['vitest', 'typescript', 'playwright-core', 'fast-check', '@types']) expect(modules).not.toContain(dev);
    const major = process.versions.node.split('.')[0];
    expect(fs.readdirSync(path.join(app, 'node_modules/@uwsjs'))).toEqual([`${process.platform}-${process.arch}-${major}`]);
    expect(fs.readdirSync(path.join(app, `node_modules/@uwsjs/${process.platform}-${process.arch}-${major}`)).filter((f) => f.endsWith('.node'))).toEqual(['uws.node']);
    // nothing of the tests reaches the image
    expect(fs.existsSync(path.join(app, 'test'))).toBe(false);
    expect(fs.readdirSync(path.join(app, 'plugins/echo'))).not.toContain('echo.test.ts');
  });

  it('declares what ECS and docker need: NODE_ENV, a non-root user, ports, SIGTERM, a health check', () => {
    expect(envOf(final)).toMatchObject({ NODE_ENV: 'production' });
    expect(ops('USER')).toEqual(['node']);
    expect(ops('EXPOSE').join(' ').split(/\s+/)).toEqual(['7681', '9464']);
    expect(ops('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(ops('HEALTHCHECK')[0]).toMatch(/^--interval=\S+ .*CMD \[/);
    expect(contextCopies(final).find((c) => c.sources.includes('logrotate'))?.dest).toBe('/etc/logrotate.d/tsws');
    expect(deps.from).toBe('node:24-trixie-slim');
    expect(final.from).toBe('node:24-trixie-slim');
  });

  it('runs the CMD as an unprivileged user, logging JSON to stdout without errors', () => {
    const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1]);
    expect(uid).not.toBe(0);
    expect(server.lines.every((l) => typeof l.level === 'number')).toBe(true);
    expect(server.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(ports.vhost).toBeGreaterThan(0);
    expect(ports.metrics).toBeGreaterThan(0);
  });

  it("passes the HEALTHCHECK command, run as the image's user", async () => {
    const { command, args } = asUser(execForm(ops('HEALTHCHECK')[0] ?? ''));
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...envOf(final), TSWS_HEALTH_URL: `http://127.0.0.1:${ports.vhost}/healthz` };
    const r = await exec(command, args, { cwd: app, env });
    expect(r.stdout).toMatch(/: 200 ok$/m);
    // and fails when nothing answers
    await expect(exec(command, args, { cwd: app, env: { ...env, TSWS_HEALTH_URL: 'http://127.0.0.1:1/healthz' } })).rejects.toMatchObject({ code: 1 });
  });

  it('serves metrics on their port and a websocket round trip on the vhost', async () => {
    const c = await TestClient.open(`ws://127.0.0.1:${ports.vhost}/`, 'echo');
    c.send('through the image');
    expect(await c.nextText()).toBe('through the image');
    await c.close();
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(sample(text, 'tsws_ws_received_messages_total', { vhost: 'localhost', protocol: 'echo' })).toBe(1);
    expect(sample(text, 'tsws_build_info')).toBe(1);
  });

  it('has deploy examples that agree with the image: ECS task definition and systemd unit', () => {
    const task = JSON.parse(fs.readFileSync(path.join(REPO, 'deploy/ecs-task-definition.json'), 'utf8')) as {
      containerDefinitions: { portMappings: { containerPort: number }[]; healthCheck: { command: string[] }; stopTimeout: number; logConfiguration: { logDriver: string } }[];
    };
    const [c] = task.containerDefinitions;
    expect(c?.portMappings.map((p) => String(p.containerPort))).toEqual(ops('EXPOSE').join(' ').split(/\s+/));
    expect(c?.healthCheck.command).toEqual(['CMD', ...execForm(ops('HEALTHCHECK')[0] ?? '')]);
    // ECS sends SIGTERM (STOPSIGNAL), then SIGKILL after stopTimeout (at most 120 s on Fargate)
    expect(c?.stopTimeout).toBeGreaterThan(0);
    expect(c?.stopTimeout).toBeLessThanOrEqual(120);
    expect(c?.logConfiguration.logDriver).toBe('awslogs');
    const unit = fs.readFileSync(path.join(REPO, 'deploy/tsws.service'), 'utf8');
    const cmd = execForm(ops('CMD')[0] ?? '').map((a) => a.replace(/^\/app$/, '/opt/tsws'));
    expect(/^ExecStart=(.*)$/m.exec(unit)?.[1]).toBe(['/usr/bin/node', '/opt/tsws/' + cmd[1], ...cmd.slice(2)].join(' '));
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  it('stops on its STOPSIGNAL with exit 0', async () => {
    server.kill(ops('STOPSIGNAL')[0] as NodeJS.Signals);
    expect(await server.exited).toBe(0);
  });
});
