/** @module Builds throwaway config directories (conf, conf.d/, plugins/, files) for tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ConfigDirSpec {
  /** conf contents: text as written, or an object for {"global": ...}. */
  readonly conf?: string | Record<string, unknown>;
  /** conf.d/<name> contents: text, or a list of vhost objects. */
  readonly vhosts?: Readonly<Record<string, string | readonly Record<string, unknown>[]>>;
  /** plugins/<path> sources. */
  readonly plugins?: Readonly<Record<string, string>>;
  /** Any other file, relative to the directory. */
  readonly files?: Readonly<Record<string, string | Buffer>>;
}

const dirs: string[] = [];

export function makeConfigDir(spec: ConfigDirSpec): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-test-'));
  dirs.push(dir);
  const write = (rel: string, content: string | Buffer) => {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  };
  const conf = spec.conf ?? { global: {} };
  write('conf', typeof conf === 'string' ? conf : JSON.stringify(conf.global ? conf : { global: conf }, null, 2));
  fs.mkdirSync(path.join(dir, 'conf.d'), { recursive: true });
  for (const [name, v] of Object.entries(spec.vhosts ?? {})) write(`conf.d/${name}`, typeof v === 'string' ? v : JSON.stringify({ vhosts: v }, null, 2));
  for (const [name, src] of Object.entries(spec.plugins ?? {})) write(`plugins/${name}`, src);
  for (const [name, content] of Object.entries(spec.files ?? {})) write(name, content);
  return dir;
}

/** Removes every directory made so far (call from afterAll). */
export function removeConfigDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Path of the repo's shipped plugin API, for plugin sources written by tests. */
export const PLUGIN_API = path.resolve(import.meta.dirname, '../../server/plugin/api.ts');
