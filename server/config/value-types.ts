/** @module The value types config keys are declared with: each a parser from lwsws's loose values to a real type, and its name in the reference. */
import { tswsError } from '../base/errors.ts';
import { parseLogLevel, type Level } from '../base/log.ts';
import { asBool, asInt, asPairList, asPlainPath, asString, asStringList, asStringMap, type Site } from './coerce.ts';
import type { KeyKind, ValueType } from './key-spec.ts';
import type { Pairs, RateSpec } from './model.ts';

export const string: ValueType<string> = { kind: 'string', parse: asString };
export const bool: ValueType<boolean> = { kind: 'bool', parse: asBool };
export const stringList: ValueType<string[]> = { kind: 'string-list', parse: asStringList };
/** A path: `_lws_ddir_` expanded, relative to the config directory. */
export const filePath: ValueType<string> = { kind: 'string', parse: (v, s, k, ctx) => mapDefined(asString(v, s, k), ctx.expand.path) };
export const pathList: ValueType<string[]> = { kind: 'string-list', parse: (v, s, k, ctx) => asStringList(v, s, k)?.map((p) => ctx.expand.path(p)) };
/** A path answered before any mount (health, metrics): see asPlainPath. */
export const plainPath: ValueType<string> = { kind: 'string', parse: asPlainPath };

export function int(min = 0, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  return { kind: 'int', parse: (v, s, k) => asInt(v, s, k, min, max) };
}

/** One of a few words; anything else is refused naming them. */
export function oneOf<const W extends string>(words: readonly W[]): ValueType<W> {
  const isWord = (s: string): s is W => (words as readonly string[]).includes(s);
  const quoted = words.map((w) => `"${w}"`);
  const list = words.length === 2 ? `neither ${quoted.join(' nor ')}` : `not one of ${quoted.join(', ')}`;
  return {
    kind: 'string',
    parse: (v, s, k) => {
      const w = asString(v, s, k);
      if (w === undefined || isWord(w)) return w;
      return refuse(s, k, `"${w}" is ${list}`);
    },
  };
}

/** A string that must pass `ok`; `detail` says what it must be. */
export function checked(ok: (s: string) => boolean, detail: (s: string) => string): ValueType<string> {
  return { kind: 'string', parse: (v, s, k) => mapDefined(asString(v, s, k), (w) => (ok(w) ? w : refuse(s, k, detail(w)))) };
}

/** A key lwsws has that tsws accepts as written and does not interpret: any value, as ever. */
export function unchecked(kind: KeyKind): ValueType<unknown> {
  return { kind, parse: (v) => v };
}

/** A block of keys of its own (cluster, metrics) or a list of them (mounts, listen): its builder reads it. */
export interface Nested {
  readonly raw: unknown;
  readonly site: Site;
}
export function nested(kind: 'array' | 'object'): ValueType<Nested> {
  return { kind, parse: (raw, site) => ({ raw, site }) };
}

const RATE = /^\s*(\d+(?:\.\d+)?)\s*r?\/(s|m|h)\s*(?:[,\s]\s*burst\s*=\s*(\d+))?\s*$/;

/**
 * A rate written as nginx's limit_req writes it: "20r/s", "600r/m" ("r" may
 * be left out, "/h" works too), with an optional " burst=40" (default: one
 * second's worth, at least 1). "0" or "off": no limit (undefined).
 */
export const rate: ValueType<RateSpec | undefined> = {
  kind: 'string',
  parse: (v, s, k) => {
    const w = asString(v, s, k);
    if (w === undefined || w === '0' || w === 'off') return undefined;
    const m = RATE.exec(w);
    const per = m ? Number(m[1]) / (m[2] === 's' ? 1 : m[2] === 'm' ? 60 : 3600) : 0;
    if (!m || !(per > 0)) return refuse(s, k, `"${w}" is not a rate such as "20r/s", "600r/m" or "20r/s burst=40" (or "off")`);
    const burst = m[3] !== undefined ? Number(m[3]) : Math.max(1, Math.ceil(per));
    if (burst < 1) return refuse(s, k, `"${w}": burst must be at least 1`);
    return { perSecond: per, burst };
  },
};

/** uWS.js counts idle time in 4-second ticks and needs at least 8; 0 is off. */
export const pingSecs: ValueType<number> = {
  kind: 'int',
  parse: (v, s, k) => mapDefined(asInt(v, s, k), (n) => (n === 0 ? 0 : Math.max(8, Math.ceil(n / 4) * 4))),
};

/**
 * A pino level name or an lwsws -d bitmask. A name that is neither has always
 * meant the default, silently: the parser returns undefined without a
 * diagnostic, so the key's default applies (refusing it would stop servers
 * that start today).
 */
export const logLevel: ValueType<Level> = { kind: 'string', parse: (v, s, k) => mapDefined(asString(v, s, k), parseLogLevel) };

/** Extension (lower case, with its dot) to MIME type: ".ZIP", "zip" and ".zip" are one. */
export const mimeTypes: ValueType<ReadonlyMap<string, string>> = {
  kind: 'map',
  parse: (v, s, k) => mapDefined(asStringMap(v, s, k), (m) => new Map([...m].map(([ext, type]) => [(ext.startsWith('.') ? ext : `.${ext}`).toLowerCase(), type]))),
};

/** RFC 9110 token characters: what a header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A portable environment variable name (POSIX). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Pairs each checked by `bad` (a reason, or undefined when fine); bad ones are reported and left out. */
function checkedPairs(bad: (name: string, value: string) => string | undefined): ValueType<Pairs> {
  return {
    kind: 'pair-list',
    parse: (v, s, k) =>
      (asPairList(v, s, k) ?? []).filter(([name, value]) => {
        const why = bad(name, value);
        if (why) refuse(s, k, why);
        return !why;
      }),
  };
}

/** Header names are tokens and values hold no line breaks: config cannot split a header. */
export const headerPairs = checkedPairs((name, value) =>
  !TOKEN.test(name) ? `"${name}" is not a valid header name` : /[\r\n\0]/.test(value) ? `the value of "${name}" holds a line break or NUL` : undefined,
);

export const envPairs = checkedPairs((name, value) =>
  !ENV_NAME.test(name) ? `"${name}" is not a valid environment variable name` : value.includes('\0') ? `the value of "${name}" holds a NUL` : undefined,
);

/** lwsws's [{"substring": "403"}, ...]: each status must be one a server can answer with. */
export const statusPairs: ValueType<readonly (readonly [string, number])[]> = {
  kind: 'pair-list',
  parse: (v, s, k) => {
    const pairs = asPairList(v, s, k);
    if (!pairs) return undefined;
    const out: [string, number][] = [];
    for (const [word, status] of pairs) {
      const n = Number(status);
      if (!Number.isInteger(n) || n < 400 || n > 599 || word === '') refuse(s, k, `"${word}": "${status}" needs a non-empty substring and a status from 400 to 599`);
      else out.push([word, n]);
    }
    return out;
  },
};

function refuse(site: Site, key: string, detail: string): undefined {
  site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key, detail }));
  return undefined;
}

function mapDefined<A, B>(a: A | undefined, f: (a: A) => B | undefined): B | undefined {
  return a === undefined ? undefined : f(a);
}
