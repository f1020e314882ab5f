/** @module Who may log in: a users file, or a handler asked about each login; failing closed when neither can answer. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Handler } from './handler.ts';
import { USERNAME } from './names.ts';

export type LoginVerdict = { readonly ok: true } | { readonly ok: false; readonly code: 'login-failed' | 'auth-unavailable'; readonly message: string };

export interface Authenticator {
  check(username: string, password: string, peer: string): Promise<LoginVerdict>;
}

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();
const REFUSED: LoginVerdict = { ok: false, code: 'login-failed', message: 'unknown user or wrong password' };

/**
 * `user:password` lines (the password may hold `:`), `#` comments. The file
 * is read again when its size or modification time changes, so users are
 * added without a restart. Passwords are compared as SHA-256 digests in
 * constant time, an unknown user against a dummy, so the time a login takes
 * says neither how much of a guess was right nor whether the user exists.
 * An unreadable file refuses every login (`auth-unavailable`) and is logged.
 */
export class UsersFile implements Authenticator {
  static readonly #dummy = digest('no such user');
  readonly #file: string;
  readonly #log: Logger;
  #digests = new Map<string, Buffer>();
  #stamp = '';

  constructor(file: string, log: Logger) {
    this.#file = file;
    this.#log = log;
    // Read once now, so that a missing or malformed file is an init error rather than a surprise at the first login.
    const problem = this.#refresh();
    if (problem) throw new Error(problem);
  }

  get size(): number {
    return this.#digests.size;
  }

  async check(username: string, password: string): Promise<LoginVerdict> {
    const problem = this.#refresh();
    if (problem) {
      this.#log.error({ file: this.#file, problem }, 'broker: users file unusable; refusing logins');
      return { ok: false, code: 'auth-unavailable', message: 'logins cannot be checked right now; try again later' };
    }
    const want = this.#digests.get(username);
    const same = crypto.timingSafeEqual(want ?? UsersFile.#dummy, digest(password));
    return want !== undefined && same ? { ok: true } : REFUSED;
  }

  /** Re-reads the file if it changed; a problem keeps the old table out (fail closed) and is returned. */
  #refresh(): string | undefined {
    let text: string;
    try {
      const st = fs.statSync(this.#file);
      const stamp = `${st.mtimeMs}:${st.size}`;
      if (stamp === this.#stamp) return undefined;
      text = fs.readFileSync(this.#file, 'utf8');
      this.#stamp = stamp;
    } catch (err) {
      this.#stamp = '';
      this.#digests = new Map();
      return `cannot read users-file ${this.#file}: ${(err as Error).message}`;
    }
    const table = new Map<string, Buffer>();
    const problems: string[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const colon = line.indexOf(':');
      const user = colon < 0 ? '' : line.slice(0, colon).trim();
      if (!USERNAME.test(user)) problems.push(`${this.#file}:${i + 1}: not "user:password" with a valid username`);
      else if (table.has(user)) problems.push(`${this.#file}:${i + 1}: user "${user}" is given twice`);
      else table.set(user, digest(line.slice(colon + 1)));
    });
    if (problems.length > 0) {
      this.#stamp = '';
      this.#digests = new Map();
      return problems.join('; ');
    }
    this.#digests = table;
    return undefined;
  }
}

/**
 * A handler decides: it gets a request of type `login` (the claimed name as
 * `user`, payload `{"password", "peer"}`) and accepts with
 * `{"command": "reply", "payload": true}`; any other reply refuses. A
 * handler that is down, slow or answers garbage refuses too, as
 * `auth-unavailable` (fail closed).
 */
export class HandlerAuth implements Authenticator {
  readonly #handler: Handler;
  readonly #server: string;
  readonly #log: Logger;

  constructor(handler: Handler, server: string, log: Logger) {
    this.#handler = handler;
    this.#server = server;
    this.#log = log;
  }

  async check(username: string, password: string, peer: string): Promise<LoginVerdict> {
    const out = await this.#handler.request({ type: 'login', user: username, server: this.#server, hops: 0, payload: { password, peer } });
    if (!out.ok) {
      this.#log.warn({ user: username, code: out.code, reason: out.message }, 'broker: auth handler failed; login refused');
      return { ok: false, code: 'auth-unavailable', message: 'logins cannot be checked right now; try again later' };
    }
    return out.command.command === 'reply' && out.command.payload === true ? { ok: true } : REFUSED;
  }
}

/** Neither option set: nobody can log in (init warns). */
export const NOBODY: Authenticator = {
  check: async () => ({ ok: false, code: 'login-failed', message: 'this server has no users configured' }),
};
