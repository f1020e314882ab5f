/** @module Runs tsws-chat (the console client) with plain pipes: lines typed on stdin, printed lines read from stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO } from './process.ts';

const BIN = path.join(REPO, 'bin/tsws-chat.mjs');

export interface ConsoleChat {
  readonly proc: ChildProcess;
  /** Lines printed so far (stdout and stderr). */
  readonly lines: string[];
  /** Types a line, as a person does (a message, or a /command). */
  say(line: string): void;
  /** Resolves with the first printed line from index `from` on that matches `re`. */
  waitFor(re: RegExp, from?: number, ms?: number): Promise<string>;
  /** Printed message lines (`HH:MM:SS <name> text`) as "name: text", in the order printed. */
  messages(): string[];
  readonly exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();

export function consoleChat(url: string, name: string, room: string): ConsoleChat {
  const proc = spawn(process.execPath, [BIN, url, '--name', name, '--room', room], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(proc);
  const lines: string[] = [];
  const wakers = new Set<() => void>();
  const reader = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      for (const w of [...wakers]) w();
    });
  };
  if (proc.stdout) reader(proc.stdout);
  if (proc.stderr) reader(proc.stderr);
  let closed = false;
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      closed = true;
      live.delete(proc);
      for (const w of [...wakers]) w();
      resolve(code);
    }),
  );
  const waitFor = (re: RegExp, from = 0, ms = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (closed) {
          // Once its output is all read: 'exit' (exitCode) may come before the last lines.
          done();
          reject(new Error(`tsws-chat ${name} exited before printing ${re}; it printed:\n${lines.join('\n')}`));
        }
      };
      // A liveness bound, not a timing assertion: what is awaited must come eventually.
      const timer = setTimeout(() => {
        done();
        reject(new Error(`tsws-chat ${name} never printed ${re}; it printed:\n${lines.join('\n')}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });
  return {
    proc,
    lines,
    say: (line) => void proc.stdin?.write(`${line}\n`),
    waitFor,
    messages: () => lines.flatMap((l) => /^\d\d:\d\d:\d\d <([^>]*)> (.*)$/.exec(l)?.slice(1, 3).join(': ') ?? []),
    exited,
  };
}

/** Kills every console client still running (call from afterAll). */
export function killConsoleChats(): void {
  for (const p of live) p.kill('SIGKILL');
}
