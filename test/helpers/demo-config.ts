/** @module A copy of the repo's default vhost on an ephemeral port, for tests that drive it like `npm start`. */
import fs from 'node:fs';
import path from 'node:path';
import { makeConfigDir } from './config-dir.ts';
import { REPO } from './process.ts';

/** The repo's conf + conf.d/localhost with "port": "7681" replaced by `port` (default 0: an OS-picked port). */
export function demoConfigDir(port = 0): string {
  const vhost = fs.readFileSync(path.join(REPO, 'conf.d/localhost'), 'utf8').replace('"port": "7681"', `"port": "${port}"`);
  if (!vhost.includes(`"port": "${port}"`)) throw new Error('conf.d/localhost no longer says "port": "7681"');
  return makeConfigDir({ conf: fs.readFileSync(path.join(REPO, 'conf'), 'utf8'), vhosts: { localhost: vhost } });
}
