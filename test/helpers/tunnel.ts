/** @module Tunnel test helpers: the tsws-tunnel agent as a process, a local target HTTP service to expose, and a raw tunnel client. */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeConfigDir } from './config-dir.ts';
import { demoConf } from './demo-config.ts';
import { REPO, type TswsProcess } from './process.ts';
import { TestClient } from './ws-client.ts';

export const AGENT_BIN = path.join(REPO, 'bin/tsws-tunnel.mjs');

export interface AgentProcess {
  readonly proc: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  /** One line on its standard input (what --send-to sends). */
  type(line: string): void;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** Runs `tsws-tunnel` with `args`, its JSON log lines parsed as they come. */
export function runAgent(args: readonly string[]): AgentProcess {
  const proc = spawn(process.execPath, [AGENT_BIN, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(proc);
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  let buf = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let closed = false;
  // 'close', not 'exit': 'exit' may come before the last lines were read from stdout (as in process.ts).
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      closed = true;
      live.delete(proc);
      resolve(code);
      for (const w of [...waiters]) w();
    }),
  );
  const waitFor = (pred: (l: Record<string, unknown>) => boolean, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(pred);
        if (hit) {
          waiters.delete(check);
          resolve(hit);
        } else if (closed) {
          waiters.delete(check);
          reject(new Error(`tsws-tunnel exited before ${what}; stderr: ${stderr}; stdout: ${lines.map((l) => JSON.stringify(l)).join('\n')}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { proc, lines, exited, waitFor, type: (l) => void proc.stdin?.write(`${l}\n`), kill: (s = 'SIGTERM') => void proc.kill(s) };
}

export function killAgents(): void {
  for (const p of live) p.kill('SIGKILL');
}

/**
 * The repo's default vhost (conf.d/localhost) as `npm start` runs it, on
 * `port` (0: an ephemeral one), with more node ids and a short request timeout.
 */
/**
 * `pingPongSecs` sets uWS.js's own idle timer, which also bounds how long a socket closed with
 * end() keeps reading what its peer still sends (at 0, 0 to 4 s: a peer still pushing data then
 * may get a TCP reset before it reads the close frame, and see 1006 instead of the code).
 */
export function tunnelConfigDir(tokens: string, requestTimeoutSecs: number, port = 0, pingPongSecs = 0): string {
  let vhost = fs.readFileSync(path.join(REPO, 'conf.d/localhost'), 'utf8');
  for (const [from, to] of [
    ['"port": "7681"', `"port": "${port}"`],
    ['"tokens": "demo:demo-token"', `"tokens": "demo:demo-token,${tokens}"`],
    ['"request-timeout-secs": "30"', `"request-timeout-secs": "${requestTimeoutSecs}"`],
  ] as const) {
    if (!vhost.includes(from)) throw new Error(`conf.d/localhost no longer says ${from}`);
    vhost = vhost.replace(from, to);
  }
  const conf = pingPongSecs > 0 ? demoConf().replace('"server-string": "tsws",', `"server-string": "tsws", "ws-pingpong-secs": "${pingPongSecs}",`) : demoConf();
  return makeConfigDir({ conf, vhosts: { localhost: vhost } });
}

/**
 * Sets the vhost's request-timeout-secs in `configDir` and reloads `server` (SIGHUP), resolving once
 * it has reloaded: tunnels open before keep going and take the new value for new requests. Tests
 * serve with a generous timeout and lower it only around the request that must time out: with a
 * short one throughout, every request through the agent had to be answered within it, which a
 * loaded machine does not promise.
 */
export async function setRequestTimeout(server: TswsProcess, configDir: string, secs: number): Promise<void> {
  const file = path.join(configDir, 'conf.d/localhost');
  const text = fs.readFileSync(file, 'utf8');
  const re = /"request-timeout-secs": "\d+"/;
  if (!re.test(text)) throw new Error(`${file} says no request-timeout-secs`);
  fs.writeFileSync(file, text.replace(re, `"request-timeout-secs": "${secs}"`));
  const from = server.lines.length;
  server.kill('SIGHUP');
  const outcome = await server.waitFor((l) => (l.event === 'reloaded' || l.event === 'reload-failed') && server.lines.indexOf(l) >= from);
  if (outcome.event !== 'reloaded') throw new Error(`the reload to request-timeout-secs ${secs} failed: ${JSON.stringify(outcome)}`);
}

// ---- the private service -------------------------------------------------------

export interface Target {
  readonly url: string;
  /** Every request as the target saw it. */
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  /** /flood: bytes written so far, and whether the last write is waiting for 'drain'. */
  readonly flood: { written: number; blocked: boolean };
  /** /stream waits for this before its second part. */
  releaseStream(): void;
  close(): Promise<void>;
}

/** A block of /flood's data: the n-th MiB is n repeated, so a receiver can check what it got. */
export const floodBlock = (n: number): Buffer => Buffer.alloc(1024 * 1024, n % 251);

export async function startTarget(): Promise<Target> {
  const seen: Target['seen'] = [];
  const flood = { written: 0, blocked: false };
  let release: () => void = () => undefined;
  let released = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/echo-hash': {
        const hash = crypto.createHash('sha256');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          hash.update(c);
          bytes += c.length;
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
        });
        return;
      }
      case '/stream':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part\n');
        void released.then(() => res.end('second part\n'));
        return;
      case '/flood': {
        const mib = Number(url.searchParams.get('mib') ?? '1');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(mib * 1024 * 1024) });
        let n = 0;
        const pump = () => {
          while (n < mib) {
            flood.written += 1024 * 1024;
            const ok = res.write(floodBlock(n++));
            if (!ok) {
              flood.blocked = true;
              res.once('drain', () => {
                flood.blocked = false;
                pump();
              });
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      case '/hang':
        return; // never answers
      case '/cut':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('the beginning\n');
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      default:
        res.writeHead(200, { 'content-type': 'text/html', 'x-private': 'yes', 'set-cookie': ['a=1', 'b=2'] });
        res.end(`<h1>private page</h1><p>${req.method} ${req.url}</p>`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    flood,
    releaseStream: () => {
      release();
      released = new Promise<void>((r) => (release = r));
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---- a tunnel spoken by hand ---------------------------------------------------------

export const hello = (id: string, token: string, extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'hello', v: 1, id, token, offers: ['http', 'messages'], ...extra });

/** A websocket of the tunnel protocol that has sent `helloText` and read the answer. */
export async function rawTunnel(wsUrl: string, helloText: string): Promise<{ client: TestClient; answer: Record<string, unknown> }> {
  const client = await TestClient.open(wsUrl, 'tunnel');
  client.send(helloText);
  const answer = JSON.parse(await client.nextText()) as Record<string, unknown>;
  return { client, answer };
}
