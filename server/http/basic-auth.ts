/** @module Per-mount HTTP Basic authentication (RFC 7617) against a file of user:password lines, as lws's "basic-auth". */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { MountConfig } from '../config/model.ts';
import { describeError, tswsError } from '../base/errors.ts';
import type { HttpExchange } from './exchange.ts';

export const BASIC_REALM = 'Basic realm="tsws"';

/** A password file is re-checked with stat at most this often, so edits apply without a restart. */
const RECHECK_MS = 1000;

interface Loaded {
  readonly checkedAt: number;
  readonly mtimeMs: number;
  readonly size: number;
  /** SHA-256 of each "user:password" line. */
  readonly digests: readonly Buffer[];
}

const files = new Map<string, Loaded>();

function sha256(s: string | Buffer): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}

/** The file's lines as digests; throws when it cannot be read. */
function credentials(file: string): readonly Buffer[] {
  const now = Date.now();
  const known = files.get(file);
  if (known && now - known.checkedAt < RECHECK_MS) return known.digests;
  const st = fs.statSync(file);
  if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) {
    files.set(file, { ...known, checkedAt: now });
    return known.digests;
  }
  const digests = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.includes(':'))
    .map((line) => sha256(line));
  files.set(file, { checkedAt: now, mtimeMs: st.mtimeMs, size: st.size, digests });
  return digests;
}

/** "user:password" from an Authorization header, or undefined when it is not Basic credentials. */
function decodeBasic(header: string): string | undefined {
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m?.[1]) return undefined;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  return plain.includes(':') ? plain : undefined;
}

/** The user name of Basic credentials (for CGI's REMOTE_USER); only meaningful once authorize() accepted them. */
export function basicAuthUser(header: string): string | undefined {
  const plain = decodeBasic(header);
  return plain === undefined ? undefined : plain.slice(0, plain.indexOf(':'));
}

/**
 * True when the request may go on. Otherwise the answer is already sent:
 * 401 with WWW-Authenticate for missing or wrong credentials, 500 when the
 * file cannot be read (fail closed, and say why in the log). Credentials are
 * compared as SHA-256 digests with timingSafeEqual against every line, with
 * no early exit, so the time taken says nothing about how close a guess was
 * or which users exist.
 */
export function authorize(ex: HttpExchange, authorization: string, mount: MountConfig, log: Logger): boolean {
  const file = mount.basicAuth;
  if (file === undefined) return true;
  let digests: readonly Buffer[];
  try {
    digests = credentials(file);
  } catch (err) {
    const e = tswsError('TSWS_ERR_BASIC_AUTH_FILE', { vhost: ex.vhost.name, file, reason: describeError(err) }, err);
    log.error({ code: e.code, vhost: ex.vhost.name }, e.message);
    ex.sendStatus(e.httpStatus ?? 500, 'Authentication is not available.');
    return false;
  }
  const plain = decodeBasic(authorization);
  if (plain !== undefined) {
    const given = sha256(plain);
    let ok = false;
    for (const d of digests) ok = crypto.timingSafeEqual(given, d) || ok;
    if (ok) return true;
  }
  const user = plain === undefined ? '' : plain.slice(0, plain.indexOf(':'));
  const e = tswsError('TSWS_ERR_BASIC_AUTH_REFUSED', { vhost: ex.vhost.name, uri: ex.uri, user });
  log.info({ code: e.code, vhost: ex.vhost.name, peer: ex.peer }, e.message);
  ex.sendStatus(e.httpStatus ?? 401, 'Authentication required.', [['WWW-Authenticate', BASIC_REALM]]);
  return false;
}
