/** @module The broker's address options parsed strictly: which handler serves each message type, and where the peer servers are. */
import fs from 'node:fs';
import path from 'node:path';
import { MESSAGE_TYPE, RESERVED_TYPES, SERVER_NAME } from './names.ts';

/** A handler the broker connects to, or one it runs. */
export type HandlerAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'exec'; readonly argv: readonly string[] };

/** The text form: handlers given the same text are one handler (one connection, one process). */
export function addressKey(a: HandlerAddress): string {
  switch (a.kind) {
    case 'unix':
      return `unix:${a.path}`;
    case 'exec':
      return `exec:${a.argv.join(' ')}`;
    default: {
      const unreachable: never = a;
      return unreachable;
    }
  }
}

/**
 * `unix:<path>`: a handler listening on a UNIX socket; `exec:<command> <args...>`:
 * a program the broker starts, split on whitespace and run without a shell
 * (put anything fancier in a script); the command must exist now. Relative
 * paths are relative to the server's working directory.
 */
export function parseHandlerAddress(text: string): HandlerAddress {
  const t = text.trim();
  if (t.startsWith('unix:')) {
    const p = t.slice('unix:'.length).trim();
    if (p === '') throw new Error(`"${text}": unix: needs a socket path`);
    return { kind: 'unix', path: path.resolve(p) };
  }
  if (t.startsWith('exec:')) {
    const argv = t.slice('exec:'.length).trim().split(/\s+/).filter(Boolean);
    const [command] = argv;
    if (command === undefined) throw new Error(`"${text}": exec: needs a command`);
    if (!findExecutable(command)) throw new Error(`"${text}": ${command.includes('/') ? 'no executable file' : 'no executable in PATH'} named ${command}`);
    return { kind: 'exec', argv };
  }
  throw new Error(`"${text}" is not a handler address: write unix:<socket path> or exec:<command> [args]`);
}

const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** As the shell would find it: a path (relative to the working directory) or a name looked up in PATH. */
function findExecutable(command: string): boolean {
  if (command.includes('/')) return isExecutable(path.resolve(command));
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && isExecutable(path.join(dir, command)));
}

/** `type=address` entries separated by `;` or newlines. Throws with every problem listed. */
export function parseHandlerMap(text: string): Map<string, HandlerAddress> {
  const out = new Map<string, HandlerAddress>();
  const problems: string[] = [];
  for (const entry of text.split(/[;\n]/).map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const type = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (eq < 0 || !MESSAGE_TYPE.test(type)) {
      problems.push(`"${entry}" is not "type=address" with a type of letters, digits, "_", "." or "-"`);
      continue;
    }
    if (RESERVED_TYPES.has(type)) problems.push(`type "${type}" is the broker's own (use the "auth-handler" option for logins)`);
    else if (out.has(type)) problems.push(`type "${type}" is given twice`);
    else {
      try {
        out.set(type, parseHandlerAddress(entry.slice(eq + 1)));
      } catch (err) {
        problems.push(`type "${type}": ${(err as Error).message}`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`option "handlers": ${problems.join('; ')}`);
  return out;
}

/** `name=url` entries separated by commas or whitespace; urls are ws://, wss:// or ws+unix:// (a UNIX socket: ws+unix:///path:/). */
export function parsePeers(text: string, self: string): Map<string, string> {
  const out = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq);
    const url = entry.slice(eq + 1);
    if (eq < 0 || !SERVER_NAME.test(name)) problems.push(`"${entry}" is not "name=url" with a server name of letters, digits, "_", "." or "-"`);
    else if (name === self) problems.push(`"${name}" is this server's own name`);
    else if (out.has(name)) problems.push(`server "${name}" is given twice`);
    else if (!/^(wss?|ws\+unix):\/\//.test(url)) problems.push(`server "${name}": "${url}" is not a ws://, wss:// or ws+unix:// address`);
    else out.set(name, url);
  }
  if (problems.length > 0) throw new Error(`option "peers": ${problems.join('; ')}`);
  return out;
}
