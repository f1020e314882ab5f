/** @module Which node ids exist and the token each must present: from the plugin's options or a file they name. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { NODE_ID } from './wire.ts';

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

/**
 * Tokens are compared as SHA-256 digests with timingSafeEqual: the time a
 * check takes says nothing about how much of a guess was right, nor (an
 * unknown id is compared against a dummy) whether the id exists.
 */
export class TokenBook {
  readonly #digests: ReadonlyMap<string, Buffer>;
  readonly #tokens: ReadonlyMap<string, string>;
  static readonly #dummy = digest('no such node');

  constructor(tokens: ReadonlyMap<string, string>) {
    this.#tokens = tokens;
    this.#digests = new Map([...tokens].map(([id, t]) => [id, digest(t)]));
  }

  get size(): number {
    return this.#digests.size;
  }

  /** The node id may be used by whoever presents this token. */
  check(id: string, token: string): boolean {
    const want = this.#digests.get(id);
    const same = crypto.timingSafeEqual(want ?? TokenBook.#dummy, digest(token));
    return want !== undefined && same;
  }

  has(id: string): boolean {
    return this.#digests.has(id);
  }

  /** A node's own token: what a message POSTed to its URL carries, proving it comes from the node it handshook with. */
  tokenOf(id: string): string | undefined {
    return this.#tokens.get(id);
  }
}

/**
 * `id:token` (or `id token`) entries separated by commas or newlines; `#`
 * starts a comment to the end of a line. The same syntax serves the
 * `tokens` option and the file `tokens-file` names. Throws with every problem
 * listed, `where` saying which source.
 */
export function parseTokens(text: string, where: string, into = new Map<string, string>()): Map<string, string> {
  const problems: string[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') return;
    const at = text.includes('\n') ? `${where}:${i + 1}` : where;
    for (const entry of line.split(',').map((e) => e.trim()).filter(Boolean)) {
      const m = /^([^:\s]+)\s*[:\s]\s*(\S+)$/.exec(entry);
      if (!m) {
        problems.push(`${at}: "${entry}" is not "id:token"`);
        continue;
      }
      const [, id = '', token = ''] = m;
      if (!NODE_ID.test(id)) problems.push(`${at}: node id "${id}" must be 1-63 lower-case letters, digits or "-" (not at either end)`);
      else if (into.has(id)) problems.push(`${at}: node id "${id}" is given twice`);
      else into.set(id, token);
    }
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return into;
}

/** The options' tokens, then the file's; an id in both is an error (which one was meant?). */
export function loadTokenBook(inline: string, file: string): TokenBook {
  const tokens = parseTokens(inline, 'option "tokens"');
  if (file !== '') {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read tokens-file ${file}: ${(err as Error).message}`, { cause: err });
    }
    parseTokens(text, file, tokens);
  }
  return new TokenBook(tokens);
}
