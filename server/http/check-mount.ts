/** @module What --check says about a mount's cgi://, proxy and redirect origins and its HTTP keys (basic-auth, cgi-*, append-path). */
import fs from 'node:fs';
import type { Diagnostics } from '../config/coerce.ts';
import { where, type MountConfig } from '../config/model.ts';
import { describeError, tswsError } from '../base/errors.ts';

/**
 * Problems found here are warnings, never errors: a script or a password
 * file may be deployed after the config, and the request that finds it
 * missing gets a 500 and a log line naming it.
 */
export function checkMountExtras(m: MountConfig, diag: Diagnostics): void {
  const at = where(m.source);
  if (m.basicAuth !== undefined) {
    const reason = unreadable(m.basicAuth);
    if (reason) diag.add(tswsError('TSWS_WARN_BASIC_AUTH_FILE', { where: at, file: m.basicAuth, reason }));
  }
  const kind = m.origin.kind;
  const unused = (key: string) => diag.add(tswsError('TSWS_WARN_MOUNT_KEY_UNUSED', { where: at, key, origin: m.originText }));
  if (m.appendPath && kind !== 'redirect') unused('append-path');
  // lws hands "cgi-env" of a callback:// mount to its protocol (LWS_CALLBACK_HTTP_PMO): not unused there.
  if (m.cgiEnv.length > 0 && kind !== 'cgi' && kind !== 'callback') unused('cgi-env');
  if (m.cgiChdir !== undefined && kind !== 'cgi') unused('cgi-chdir');
  if (m.cacheNo && kind !== 'file') unused('cache-no');
  if (m.origin.kind === 'cgi') {
    const reason = unusableScript(m.origin.script);
    if (reason) diag.add(tswsError('TSWS_WARN_CGI_SCRIPT_UNUSABLE', { where: at, path: m.origin.script, reason }));
  }
}

function unreadable(file: string): string | undefined {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isFile() ? undefined : 'is not a file';
  } catch (err) {
    return `cannot be read (${describeError(err)})`;
  }
}

/** Why a CGI script cannot be run, or undefined when it can. Also used per request. */
export function unusableScript(script: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(script);
  } catch {
    return 'does not exist';
  }
  if (!st.isFile()) return 'is not a file';
  try {
    fs.accessSync(script, fs.constants.X_OK);
  } catch {
    return 'is not executable';
  }
  return undefined;
}
