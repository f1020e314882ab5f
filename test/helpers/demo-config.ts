/** @module A copy of the repo's default config on ephemeral ports, for tests that drive it like `npm start`. */
import fs from 'node:fs';
import path from 'node:path';
import { makeConfigDir } from './config-dir.ts';
import { REPO } from './process.ts';

function replaceOnce(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer says ${from}`);
  return text.replace(from, to);
}

/** The repo's conf with its metrics port (9464) replaced by `port` (default 0: an OS-picked port). */
export function demoConf(port = 0): string {
  return replaceOnce(fs.readFileSync(path.join(REPO, 'conf'), 'utf8'), '"port": "9464"', `"port": "${port}"`, 'conf');
}

/** The repo's conf.d/localhost with "port": "7681" replaced by `port` (default 0). */
export function demoVhost(port = 0): string {
  return replaceOnce(fs.readFileSync(path.join(REPO, 'conf.d/localhost'), 'utf8'), '"port": "7681"', `"port": "${port}"`, 'conf.d/localhost');
}

/** conf + conf.d/localhost, the vhost on `port` (default 0) and the metrics on an OS-picked port. */
export function demoConfigDir(port = 0): string {
  return makeConfigDir({ conf: demoConf(), vhosts: { localhost: demoVhost(port) } });
}
