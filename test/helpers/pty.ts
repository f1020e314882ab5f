/** @module Runs a command in a pseudo-terminal (util-linux `script`), typing lines into it and reading its screen output. */
import { spawn, type ChildProcess } from 'node:child_process';

/** CSI and OSC escape sequences, and the carriage returns a terminal line discipline adds. */
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[=>]|\r/g;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Pty {
  readonly proc: ChildProcess;
  /** Everything printed so far, escape sequences removed. */
  text(): string;
  /** The lines a person sees now: the output played on a small terminal model (cursor moves and erases applied). */
  screen(): string[];
  /** Resolves once the output matches `re` (searched from the start, or after `from`). */
  waitFor(re: RegExp, what?: string, from?: number): Promise<RegExpMatchArray>;
  /** Types a line and Enter. */
  type(line: string): void;
  readonly exited: Promise<number | null>;
  kill(): void;
}

const live = new Set<ChildProcess>();

/** `script -qfec` gives the command a real terminal on stdin and stdout, as a person at a terminal has. */
export function runInPty(argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; ms?: number } = {}): Pty {
  const proc = spawn('script', ['-qfec', argv.map(quote).join(' '), '/dev/null'], {
    cwd: opts.cwd,
    env: { ...process.env, TERM: 'xterm', COLUMNS: '200', LINES: '50', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(proc);
  let raw = '';
  const wakers = new Set<() => void>();
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
    raw += c;
    for (const w of [...wakers]) w();
  });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    raw += c;
    for (const w of [...wakers]) w();
  });
  let closed = false;
  // 'close', not 'exit': 'exit' may come before the last output was read (as in process.ts).
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      closed = true;
      live.delete(proc);
      for (const w of [...wakers]) w();
      resolve(code);
    }),
  );
  const text = () => raw.replace(ESCAPES, '');
  const waitFor = (re: RegExp, what = String(re), from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const ms = opts.ms ?? 15_000;
      const check = () => {
        const m = text().slice(from).match(re);
        if (m) {
          done();
          resolve(m);
        } else if (closed) {
          done();
          reject(new Error(`exited (${proc.exitCode}) before printing ${what}; output:\n${text()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`never printed ${what} within ${ms} ms; output:\n${text()}`));
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
    text,
    screen: () => playTerminal(raw),
    waitFor,
    type: (line) => void proc.stdin?.write(`${line}\r`),
    exited,
    kill: () => void proc.kill('SIGKILL'),
  };
}

/** Kills every pty child still running (call from afterAll). */
export function killPtys(): void {
  for (const p of live) p.kill('SIGKILL');
}

/**
 * Plays terminal output onto a grid, with the few control sequences
 * readline uses: CR, LF, cursor up/down/forward/back/column (A B C D G),
 * erase in line (K) and erase below (J). Enough to tell what stays on screen
 * from what was drawn and then erased.
 */
export function playTerminal(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = () => (lines[row] ??= []);
  const re = /\u001b\[([0-9;?]*)([A-Za-z])|\u001b\][^\u0007]*\u0007|\u001b[=>]|([\r\n\b])|([^\u001b\r\n\b]+)/g;
  for (const m of raw.matchAll(re)) {
    const [, params = '', cmd, ctl, text] = m;
    if (text !== undefined) {
      for (const ch of text) line()[col++] = ch;
    } else if (ctl === '\r') col = 0;
    else if (ctl === '\n') {
      row++;
      line();
    } else if (ctl === '\b') col = Math.max(0, col - 1);
    else if (cmd) {
      const n = Number.parseInt(params, 10);
      const count = Number.isNaN(n) ? 1 : n;
      if (cmd === 'A') row = Math.max(0, row - count);
      else if (cmd === 'B') row += count;
      else if (cmd === 'C') col += count;
      else if (cmd === 'D') col = Math.max(0, col - count);
      else if (cmd === 'G') col = Math.max(0, count - 1);
      else if (cmd === 'K') {
        if (params === '2') lines[row] = [];
        else if (params === '1') line().fill(' ', 0, col);
        else line().length = Math.min(line().length, col);
      } else if (cmd === 'J') {
        line().length = Math.min(line().length, col);
        lines.length = row + 1;
      }
    }
  }
  return lines.map((l) => Array.from(l, (c) => c ?? ' ').join('').trimEnd());
}
