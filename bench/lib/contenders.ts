/** @module The servers under test: how the harness starts each one on a port of its choosing, and what it is. */
import fs from 'node:fs';
import path from 'node:path';
import { CLUSTER_INSTANCES, redisCommand, startCluster } from './cluster.ts';
import { FANOUT_MODES, writeNginxConfig, writeTswsProxyConfig, type BenchEnv, type FanoutMode } from './configs.ts';
import { freePort, sleep, startChild, waitForPort } from './proc.ts';
import type { Runtime } from './runtime.ts';

export { prepareEnv, type BenchEnv } from './configs.ts';

export type ContenderId =
  | 'tsws'
  | 'tsws-log'
  | 'tsws-2t'
  | 'tsws-tls'
  | 'tsws-proxy'
  | 'tsws-cluster'
  | 'tsws-topic'
  | 'tsws-channel'
  | 'tsws-history'
  | 'tsws-resume'
  | 'uws'
  | 'uws-tls'
  | 'ws'
  | 'node-http'
  | 'lws'
  | 'nginx'
  | 'nginx-proxy';

/** The fan-out contenders of the channel scenario, by bench-fanout's mode. */
export const FANOUT_CONTENDERS: Readonly<Record<FanoutMode, ContenderId>> = { plain: 'tsws-topic', channel: 'tsws-channel', history: 'tsws-history' };
const fanoutModeOf = (id: ContenderId) => FANOUT_MODES.find((m) => FANOUT_CONTENDERS[m] === id);

export const CONTENDERS: Readonly<Record<ContenderId, { readonly label: string; readonly what: string }>> = {
  tsws: { label: 'tsws', what: 'bin/tsws.mjs with the shipped plugins (echo, lws-mirror-protocol, dumb-increment-protocol) and a file:// mount, no access log (the lwsws default)' },
  'tsws-log': { label: 'tsws + access log', what: 'the same tsws config with "access-log" set: one lwsws-format line per request and upgrade (buffered)' },
  'tsws-2t': { label: 'tsws count-threads 2', what: 'the same tsws config with "count-threads": "2" in the global block: two worker threads serving the listener (SO_REUSEPORT)' },
  'tsws-tls': { label: 'tsws TLS', what: 'the same tsws config, its vhost on a self-signed P-256 certificate (host-ssl-cert, host-ssl-key)' },
  'tsws-proxy': { label: 'tsws proxy', what: 'tsws with one http:// mount of "/" onto the upstream (raw uWS.js serving the file); an undici keep-alive pool per upstream (server/http/mounts/proxy-upstream.ts) keeps the upstream connections alive' },
  'tsws-cluster': { label: 'tsws ×2 + Redis', what: 'two tsws instances (lws-mirror-protocol only) with "cluster": {"redis": ...} on one redis-server: a mirror group spans both, fan-out through Redis' },
  'tsws-topic': { label: 'tsws topic', what: 'bin/tsws.mjs with bench/plugins/bench-fanout.ts, mode "plain": members subscribe to a topic, each message goes out through vhost.publish (as lws-mirror-protocol)' },
  'tsws-channel': { label: 'tsws channel', what: 'the same plugin, mode "channel": members subscribe to a channel without history, each message goes out through its publish (an offset, no copy kept)' },
  'tsws-history': { label: 'tsws channel + history', what: 'the same plugin, mode "history": the channel keeps its last 1000 publications' },
  'tsws-resume': {
    label: 'tsws ×2 + Redis, channels',
    what: 'two tsws instances with "cluster" on one redis-server, serving bench/plugins/bench-channels.ts (channelFrames, history 1000) on fixed ports; instance a is SIGKILLed and started again on its port',
  },
  uws: { label: 'raw uWS.js', what: 'bench/contenders/uws-server.ts: uWebSockets.js with no framework (send in the message handler, app.publish, one setInterval)' },
  'uws-tls': { label: 'raw uWS.js TLS', what: 'bench/contenders/uws-server.ts on uWS.js\'s SSLApp with the same certificate' },
  ws: { label: 'ws', what: 'bench/contenders/ws-server.ts: the ws library on node:http' },
  'node-http': { label: 'node:http', what: 'bench/contenders/ws-server.ts: node:http answering from memory' },
  lws: { label: 'lws test server', what: "Debian's libwebsockets-test-server (C, lws 4.1.6)" },
  nginx: { label: 'nginx', what: "Debian's /usr/sbin/nginx, one worker process, generated config (bench/lib/configs.ts): access_log off, sendfile on, the same file" },
  'nginx-proxy': { label: 'nginx proxy_pass', what: 'the same nginx, proxy_pass to the upstream over HTTP/1.1 keep-alive connections (upstream keepalive 128)' },
};

/** Contenders that are not Node programs: the same in every runtime's run. */
export const isNative = (id: ContenderId) => id === 'lws' || id === 'nginx' || id === 'nginx-proxy';

export interface Running {
  readonly id: ContenderId;
  /** The process whose CPU and memory are measured (nginx: its worker, not the master). */
  readonly pid: number;
  readonly port: number;
  /** What the load generator connects to: one port, or a cluster's instances ("a+b", see loadgen/main.c). */
  readonly target: string;
  /** Every process whose CPU is the server's (a cluster's instances and its Redis). */
  readonly cpuPids: readonly number[];
  stop(): Promise<void>;
}

/** The command line that starts a contender, as RESULTS.md shows it. */
export function commandOf(id: ContenderId, env: BenchEnv, port: number | '<port>' = '<port>', upstream: number | '<upstream>' = '<upstream>'): string[] {
  const rel = (p: string) => path.relative(env.repo, p);
  const uws = ['node', '--import', 'tsx', 'bench/contenders/uws-server.ts', '--file', rel(env.staticFile)];
  const nginx = (name: string) => ['/usr/sbin/nginx', '-p', rel(path.join(env.nginxDir, name)), '-c', 'nginx.conf', '-e', 'stderr'];
  switch (id) {
    // Through its own #! line, as `npx tsws` runs it (that line carries tsws's V8 flags).
    case 'tsws':
      return ['bin/tsws.mjs', '-c', rel(env.tswsConfig)];
    case 'tsws-log':
      return ['bin/tsws.mjs', '-c', rel(env.tswsLogConfig)];
    case 'tsws-2t':
      return ['bin/tsws.mjs', '-c', rel(env.tswsThreadsConfig)];
    case 'tsws-tls':
      return ['bin/tsws.mjs', '-c', rel(env.tswsTlsConfig)];
    case 'tsws-proxy':
      return ['bin/tsws.mjs', '-c', rel(env.tswsProxyConfig)];
    case 'tsws-cluster':
      return ['bin/tsws.mjs', '-c', rel(path.join(env.work, `tsws-cluster-{${CLUSTER_INSTANCES.join(',')}}`)), '(one each) +', ...redisCommand(env, '<port>')];
    case 'tsws-topic':
    case 'tsws-channel':
    case 'tsws-history':
      return ['bin/tsws.mjs', '-c', rel(env.tswsFanoutConfigs[fanoutModeOf(id) ?? 'plain'])];
    case 'tsws-resume':
      return ['bin/tsws.mjs', '-c', rel(path.join(env.work, `tsws-channels-{${CLUSTER_INSTANCES.join(',')}}`)), '(one each) +', ...redisCommand(env, '<port>')];
    case 'uws':
      return uws;
    case 'uws-tls':
      return [...uws, '--tls-cert', rel(env.cert), '--tls-key', rel(env.key)];
    case 'ws':
    case 'node-http':
      return ['node', '--import', 'tsx', 'bench/contenders/ws-server.ts', '--file', rel(env.staticFile)];
    case 'lws':
      // -d 1: errors only (its default also logs a notice per connection).
      return ['libwebsockets-test-server', '--port', String(port), '-d', '1'];
    case 'nginx':
      return nginx(`static-${port}`);
    case 'nginx-proxy':
      return nginx(`proxy-${port}-${upstream}`);
    default: {
      const never: never = id;
      return never;
    }
  }
}

/** nginx's worker: the master only forks and waits, so the worker is the process to measure. */
async function workerOf(master: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const children = fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    if (children[0]) return children[0];
    await sleep(20);
  }
  throw new Error(`nginx (pid ${master}) started no worker`);
}

async function startNative(id: ContenderId, env: BenchEnv, upstream: number | undefined): Promise<Running> {
  // lws and nginx cannot listen on port 0 and report it: pick a free one first.
  const port = await freePort();
  if (id === 'nginx') writeNginxConfig(env, `static-${port}`, port);
  if (id === 'nginx-proxy') writeNginxConfig(env, `proxy-${port}-${upstream}`, port, upstream);
  const [cmd = '', ...args] = commandOf(id, env, port, upstream);
  const child = startChild(cmd, args, { cwd: env.repo });
  await Promise.race([waitForPort(port), child.exited.then((c) => Promise.reject(new Error(`${id} exited (${c}): ${child.stderr.join('')}`)))]);
  // nginx stops at once on SIGTERM; SIGQUIT would wait for wrk's keep-alive connections.
  const stop = () => child.stop(id === 'lws' ? 'SIGINT' : 'SIGTERM');
  const pid = id === 'lws' ? child.pid : await workerOf(child.pid);
  return { id, pid, port, target: String(port), cpuPids: [pid], stop };
}

/** The Node flags of a script's `#!/usr/bin/env -S node <flags>` line. */
function shebangFlags(script: string): string[] {
  const first = fs.readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node\s*(.*)$/.exec(first);
  return m?.[1] ? m[1].split(/\s+/) : [];
}

/** Starts a contender; Node ones on `runtime`. The proxies need their upstream's port. */
export async function startContender(id: ContenderId, env: BenchEnv, runtime: Runtime, upstream?: number): Promise<Running> {
  if ((id === 'tsws-proxy' || id === 'nginx-proxy') && upstream === undefined) throw new Error(`${id} needs an upstream`);
  if (isNative(id)) return startNative(id, env, upstream);
  if (id === 'tsws-cluster') {
    const c = await startCluster(env, runtime);
    const stop = async () => void (await Promise.all(c.children.map((ch) => ch.stop())));
    return { id, pid: c.pids[0] ?? 0, port: c.ports[0] ?? 0, target: c.ports.join('+'), cpuPids: c.pids, stop };
  }
  // Its scenario starts it (bench/scenarios/channel-resume.ts): it kills and restarts one instance mid-measurement.
  if (id === 'tsws-resume') throw new Error('tsws-resume is started by its scenario, not as a contender');
  if (id === 'tsws-proxy' && upstream !== undefined) writeTswsProxyConfig(env, upstream);
  const [cmd = '', ...args] = commandOf(id, env);
  const opts = { cwd: env.repo, env: runtime.env };
  const child =
    cmd === 'node'
      ? startChild(runtime.node, args, opts)
      : runtime.nodeFlags
        ? startChild(runtime.node, [...shebangFlags(path.join(env.repo, cmd)), ...runtime.nodeFlags, cmd, ...args], opts)
        : startChild(path.join(env.repo, cmd), args, opts);
  const line = await child.waitLine((l) => l.includes('"event":"ready"'));
  const ready = JSON.parse(line) as { port?: number; listeners?: { port: number }[] };
  const port = ready.port ?? ready.listeners?.[0]?.port;
  if (!port) throw new Error(`${id}: no port in its ready line: ${line}`);
  return { id, pid: child.pid, port, target: String(port), cpuPids: [child.pid], stop: () => child.stop('SIGTERM') };
}
