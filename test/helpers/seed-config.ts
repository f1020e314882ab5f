/** @module The Comlink v2 seed's config (test/fixtures/seed-comlink-v2) as written, but for what cannot work on a test machine. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeConfigDir } from './config-dir.ts';
import { REPO } from './process.ts';

export const SEED_DIR = path.join(REPO, 'test/fixtures/seed-comlink-v2');

/**
 * A config dir with the seed's conf and conf.d/comlink_v2, changed only where
 * they cannot work here: its fixed port (taken by others) becomes 0, its
 * access log under /var/log goes to `logDir`, and its user AMS-TEAM (which
 * does not exist, and an unknown user stops start-up) becomes whoever runs
 * the test.
 */
export function seedConfigDir(logDir: string): string {
  const vhost = fs
    .readFileSync(path.join(SEED_DIR, 'conf.d/comlink_v2'), 'utf8')
    .replace('"port": "7681"', '"port": "0"')
    .replace('/var/log/lwsws/test-access-log', path.join(logDir, 'access.log'));
  const me = os.userInfo().username;
  const conf = fs.readFileSync(path.join(SEED_DIR, 'conf'), 'utf8').replaceAll('"AMS-TEAM"', JSON.stringify(me)).replace(/"(uid|gid)": "33"/g, '"$1": "' + String(process.getuid?.() ?? 0) + '"');
  return makeConfigDir({ conf, vhosts: { comlink_v2: vhost } });
}
