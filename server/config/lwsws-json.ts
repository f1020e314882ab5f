/** @module Reads lwsws's JSON dialect (`#` comments, JSON5 accepted) and remembers where every key was written. */
import JSON5 from 'json5';
import { tswsError } from '../base/errors.ts';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Path of a value inside the document, e.g. ["vhosts", 0, "mounts", 2, "origin"]. */
export type JsonPath = readonly (string | number)[];

export interface DuplicateKey {
  readonly path: JsonPath;
  readonly first: Position;
  readonly second: Position;
}

export interface ParsedDocument {
  readonly file: string;
  readonly value: unknown;
  /** Position of the key (object members) or of the value (array elements). */
  positionOf(path: JsonPath): Position;
  readonly duplicates: readonly DuplicateKey[];
}

/**
 * Blanks out `#` comments (to end of line) outside strings, keeping every
 * other character where it was so that positions reported by JSON5 and by the
 * indexer below still match the user's file.
 */
export function stripHashComments(text: string): string {
  const out = text.split('');
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i = skipString(text, i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '#') {
      while (i < n && text[i] !== '\n') {
        if (text[i] !== '\r') out[i] = ' ';
        i++;
      }
    } else {
      i++;
    }
  }
  return out.join('');
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === quote) return i + 1;
    else if (c === '\n' && text[i - 1] !== '\\') return i; // unterminated: JSON5 reports it
    else i++;
  }
  return i;
}

export function parseLwswsJson(text: string, file: string): ParsedDocument {
  const stripped = stripHashComments(text);
  let value: unknown;
  try {
    value = JSON5.parse(stripped);
  } catch (err) {
    const e = err as { lineNumber?: number; columnNumber?: number; message?: string };
    const where = e.lineNumber ? `${file}:${e.lineNumber}:${e.columnNumber ?? 1}` : file;
    const detail = String(e.message ?? err).replace(/^JSON5: /, '').replace(/ at \d+:\d+$/, '');
    throw tswsError('TSWS_ERR_CONFIG_SYNTAX', { where, detail }, err);
  }
  const index = new PositionIndexer(stripped).run();
  return {
    file,
    value,
    duplicates: index.duplicates,
    positionOf(path) {
      // Walk up to the nearest recorded ancestor: a missing key is reported at its object.
      for (let len = path.length; len >= 0; len--) {
        const pos = index.positions.get(pathKey(path.slice(0, len)));
        if (pos) return pos;
      }
      return { line: 1, col: 1 };
    },
  };
}

export function pathKey(path: JsonPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/**
 * Records positions by walking text that JSON5 has already accepted, so it can
 * assume well-formed input and stay small: it only needs to tell strings,
 * identifiers, scalars, comments and punctuation apart.
 */
class PositionIndexer {
  readonly positions = new Map<string, Position>();
  readonly duplicates: DuplicateKey[] = [];
  #i = 0;
  readonly #text: string;
  readonly #lineStarts: number[] = [0];

  constructor(text: string) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.#lineStarts.push(i + 1);
  }

  run(): this {
    this.#skipTrivia();
    this.positions.set('', this.#pos(this.#i));
    this.#value([]);
    return this;
  }

  #pos(offset: number): Position {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.#lineStarts[lo] ?? 0) + 1 };
  }

  #skipTrivia(): void {
    const t = this.#text;
    for (;;) {
      const c = t[this.#i];
      if (c === undefined) return;
      if (c === '/' && t[this.#i + 1] === '/') {
        while (this.#i < t.length && t[this.#i] !== '\n') this.#i++;
      } else if (c === '/' && t[this.#i + 1] === '*') {
        const end = t.indexOf('*/', this.#i + 2);
        this.#i = end < 0 ? t.length : end + 2;
      } else if (/\s/.test(c) || c === '\uFEFF') {
        this.#i++;
      } else {
        return;
      }
    }
  }

  #value(path: JsonPath): void {
    const c = this.#text[this.#i];
    if (c === '{') this.#object(path);
    else if (c === '[') this.#array(path);
    else if (c === '"' || c === "'") this.#i = skipString(this.#text, this.#i);
    else while (this.#i < this.#text.length && !/[\s,\]}/]/.test(this.#text[this.#i] ?? '')) this.#i++;
    this.#skipTrivia();
  }

  #object(path: JsonPath): void {
    this.#i++; // {
    const seen = new Map<string, Position>();
    for (;;) {
      this.#skipTrivia();
      if (this.#text[this.#i] === '}') break;
      const keyStart = this.#i;
      const key = this.#key();
      const pos = this.#pos(keyStart);
      const childPath = [...path, key];
      const first = seen.get(key);
      if (first) this.duplicates.push({ path: childPath, first, second: pos });
      seen.set(key, pos);
      this.positions.set(pathKey(childPath), pos);
      this.#skipTrivia();
      this.#i++; // :
      this.#skipTrivia();
      this.#value(childPath);
      if (this.#text[this.#i] === ',') this.#i++;
    }
    this.#i++; // }
  }

  #array(path: JsonPath): void {
    this.#i++; // [
    let index = 0;
    for (;;) {
      this.#skipTrivia();
      if (this.#text[this.#i] === ']') break;
      const childPath = [...path, index++];
      this.positions.set(pathKey(childPath), this.#pos(this.#i));
      this.#value(childPath);
      if (this.#text[this.#i] === ',') this.#i++;
    }
    this.#i++; // ]
  }

  #key(): string {
    const t = this.#text;
    const c = t[this.#i];
    if (c === '"' || c === "'") {
      const end = skipString(t, this.#i);
      const raw = t.slice(this.#i, end);
      this.#i = end;
      // Reuse JSON5 for escapes so keys compare exactly as the parsed value has them.
      return JSON5.parse<string>(raw);
    }
    const start = this.#i;
    while (this.#i < t.length && !/[\s:]/.test(t[this.#i] ?? '')) this.#i++;
    return t.slice(start, this.#i);
  }
}
