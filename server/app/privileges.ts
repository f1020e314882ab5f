/** @module Privilege drop as lwsws does it: once everything privileged is done, setgid, initgroups, then setuid. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Privileges } from '../config/model.ts';
import { tswsError, type TswsError } from '../base/errors.ts';

export interface Identity {
  readonly uid: number;
  /** Undefined: keep the current group. */
  readonly gid: number | undefined;
  /** For initgroups; without a name the supplementary groups become just gid. */
  readonly user: string | undefined;
}

/** getent honours NSS (LDAP, sssd...) where reading /etc/passwd would not. */
function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(':');
  } catch {
    return undefined;
  }
}

/**
 * Names win over numbers when both are given (the seed gives both). The
 * group defaults to the user's primary group. Returns undefined when nothing
 * is configured, an error naming what does not exist otherwise.
 */
export function resolveIdentity(p: Privileges): Identity | TswsError | undefined {
  if (p.username === undefined && p.uid === undefined && p.groupname === undefined && p.gid === undefined) return undefined;
  let uid = p.uid;
  let primaryGid: number | undefined;
  let user = p.username;
  if (p.username !== undefined) {
    const pw = getent('passwd', p.username);
    if (!pw) return tswsError('TSWS_ERR_PRIV_UNKNOWN', { kind: 'user', name: p.username });
    uid = Number(pw[2]);
    primaryGid = Number(pw[3]);
  } else if (uid !== undefined) {
    const pw = getent('passwd', String(uid));
    if (pw) {
      user = pw[0];
      primaryGid = Number(pw[3]);
    }
  }
  let gid = p.gid ?? primaryGid;
  if (p.groupname !== undefined) {
    const gr = getent('group', p.groupname);
    if (!gr) return tswsError('TSWS_ERR_PRIV_UNKNOWN', { kind: 'group', name: p.groupname });
    gid = Number(gr[2]);
  }
  return { uid: uid ?? process.getuid?.() ?? 0, gid, user };
}

/** Call once listeners are bound, certificates and access logs opened and every init has run. */
/** `owned`: files made while root that the dropped user must keep using (UNIX sockets), chowned first as lws does. */
export function dropPrivileges(id: Identity, log: Logger, owned: readonly string[] = []): void {
  const currentUid = process.getuid?.() ?? 0;
  if (currentUid !== 0) {
    // The container already runs as an unprivileged user: nothing to drop, say so if it differs.
    if (id.uid !== currentUid) {
      const e = tswsError('TSWS_WARN_PRIV_NOT_ROOT', { uid: currentUid, wanted: id.uid });
      log.warn({ code: e.code }, e.message);
    }
    return;
  }
  // POSIX-only calls: present on every platform tsws runs on (Linux), optional in Node's typings.
  const posix = process as NodeJS.Process &
    Required<Pick<NodeJS.Process, 'setgid' | 'setgroups' | 'setuid'>> & { initgroups(user: string, extraGroup: number): void };
  for (const file of owned) fs.chownSync(file, id.uid, id.gid ?? -1);
  if (id.gid !== undefined) {
    posix.setgid(id.gid);
    if (id.user !== undefined) posix.initgroups(id.user, id.gid);
    else posix.setgroups([id.gid]);
  }
  posix.setuid(id.uid);
  log.info({ event: 'privileges-dropped', uid: process.getuid?.(), gid: process.getgid?.(), user: id.user }, `running as uid ${id.uid}${id.gid !== undefined ? ` gid ${id.gid}` : ''}`);
}
