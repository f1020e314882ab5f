/** @module Turns lwsws's loosely typed values ("7681", "on", 1) into real types, reporting each misfit with its position. */
import { TswsError, tswsError } from '../base/errors.ts';
import type { ParsedDocument, JsonPath } from './lwsws-json.ts';
import type { SourceRef } from './model.ts';

/** Collects every problem in one pass so a user sees all of them at once. */
export class Diagnostics {
  readonly errors: TswsError[] = [];
  readonly warnings: TswsError[] = [];

  add(err: TswsError): void {
    (err.severity === 'warning' ? this.warnings : this.errors).push(err);
  }
}

/** A cursor into one parsed file: knows where a path was written. */
export class Site {
  constructor(
    readonly doc: ParsedDocument,
    readonly path: JsonPath,
    readonly diag: Diagnostics,
  ) {}

  at(...more: (string | number)[]): Site {
    return new Site(this.doc, [...this.path, ...more], this.diag);
  }

  get source(): SourceRef {
    const p = this.doc.positionOf(this.path);
    return { file: this.doc.file, line: p.line, col: p.col };
  }

  get where(): string {
    const s = this.source;
    return `${s.file}:${s.line}:${s.col}`;
  }
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : JSON.stringify(v);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeError(site: Site, key: string, expected: string, got: unknown): undefined {
  site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key, expected, got: describe(got) }));
  return undefined;
}

export function asString(v: unknown, site: Site, key: string): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeError(site, key, 'a string', v);
}

export function asInt(v: unknown, site: Site, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const expected = max < Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}` : `an integer of at least ${min}`;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) n = Number.parseInt(v, 10);
  if (n === undefined || n < min || n > max) return typeError(site, key, expected, v);
  return n;
}

const TRUE_WORDS = new Set(['1', 'on', 'yes', 'true']);
const FALSE_WORDS = new Set(['0', 'off', 'no', 'false']);

/**
 * lwsws treats any nonzero number or on/yes/true as true and everything else
 * as false, so a typo like "ofn" silently means false there. We accept the
 * same words but refuse anything else.
 */
export function asBool(v: unknown, site: Site, key: string): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w) || /^[+-]?0*[1-9]\d*$/.test(w)) return true;
    if (FALSE_WORDS.has(w) || /^[+-]?0+$/.test(w)) return false;
  }
  return typeError(site, key, 'a boolean ("1"/"0", "on"/"off", "yes"/"no", true/false)', v);
}

export function asStringList(v: unknown, site: Site, key: string): string[] | undefined {
  if (Array.isArray(v)) {
    const out: string[] = [];
    v.forEach((item, i) => {
      const s = asString(item, site.at(i), key);
      if (s !== undefined) out.push(s);
    });
    return out;
  }
  const s = asString(v, site, key);
  return s === undefined ? undefined : [s];
}

export function asStringMap(v: unknown, site: Site, key: string): Map<string, string> | undefined {
  if (!isPlainObject(v)) return typeError(site, key, 'an object of strings', v);
  const out = new Map<string, string>();
  for (const [k, item] of Object.entries(v)) {
    const s = asString(item, site.at(k), k);
    if (s !== undefined) out.set(k, s);
  }
  return out;
}

/**
 * lwsws writes "headers" and "cgi-env" as an array of one-key objects,
 * [{"X-A": "1"}, {"X-B": "2"}], keeping their order; an object may also hold
 * several pairs, and a bare object is taken as one such element.
 */
export function asPairList(v: unknown, site: Site, key: string): [string, string][] | undefined {
  const groups = Array.isArray(v) ? v : [v];
  const out: [string, string][] = [];
  let ok = true;
  groups.forEach((group, i) => {
    const gsite = Array.isArray(v) ? site.at(i) : site;
    if (!isPlainObject(group)) {
      ok = false;
      typeError(gsite, key, 'an array of {"name": "value"} objects', group);
      return;
    }
    for (const [name, item] of Object.entries(group)) {
      const s = asString(item, gsite.at(name), `${key}.${name}`);
      if (s === undefined) ok = false;
      else out.push([name, s]);
    }
  });
  return ok ? out : undefined;
}

/** A path answered before any mount (health, metrics): absolute, no query, nothing a normalised request path could differ in. */
export function asPlainPath(v: unknown, site: Site, key: string): string | undefined {
  const p = asString(v, site, key);
  if (p === undefined) return undefined;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(p) || p.includes('//') || /(^|\/)\.\.?(\/|$)/.test(p)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key, detail: `"${p}" must be a plain absolute path such as "/healthz" (letters, digits, "-._~/", no "." or ".." segments, no query)` }));
    return undefined;
  }
  return p;
}
