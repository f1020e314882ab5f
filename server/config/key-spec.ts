/** @module How a config key is declared: its value type (parser), its default with the reason for it, and its documentation. */
import type { Site } from './coerce.ts';

export type KeyKind =
  | 'string'
  | 'int'
  | 'bool'
  /** a string, or an array of strings (lwsws repeats the key instead) */
  | 'string-list'
  /** an object of string values, e.g. extra-mimetypes */
  | 'map'
  /** an array of one-key objects, e.g. headers: [{"X-A": "1"}] */
  | 'pair-list'
  | 'array'
  /** an object with keys of its own, documented in their own table (e.g. cluster) */
  | 'object';

/** What the loader expands values with. */
export interface Expand {
  /** Expands `_lws_ddir_` and resolves relative paths against the config directory. */
  path(value: string): string;
  text(value: string): string;
}

/** What parsers and computed defaults may depend on besides the value. */
export interface ReadContext {
  readonly expand: Expand;
}

/**
 * Turns a value as written into its real type. Undefined means the value was
 * refused, and the parser has added a diagnostic saying why at `site`.
 */
export type Parse<T> = (value: unknown, site: Site, key: string, ctx: ReadContext) => T | undefined;

/** A value type: the parser and the name the reference shows for it. */
export interface ValueType<T> {
  readonly kind: KeyKind;
  readonly parse: Parse<T>;
}

/** A key tsws reads. `V` includes undefined when an absent key has no value (a required key, or one whose absence means "none"). */
export interface ValueKey<V> {
  readonly kind: KeyKind;
  readonly doc: string;
  readonly parse: Parse<V>;
  /** The value of an absent key (or of a refused one: the config is then invalid anyway). */
  readonly absent: (ctx: ReadContext) => V;
  /** The default as the reference shows it; undefined when there is none to show. */
  readonly shown: string | undefined;
  /** Why the default is what it is, one line (as uWebSockets' App.h keeps beside each). */
  readonly why: string | undefined;
  readonly notImplemented?: undefined;
}

/** An lwsws key tsws knows but does not act on: using it is a warning that says why. */
export interface UnsupportedKey {
  readonly kind: KeyKind;
  readonly doc: string;
  readonly notImplemented: string;
}

export type KeyDef = ValueKey<unknown> | UnsupportedKey;
export type Block = Readonly<Record<string, KeyDef>>;

/** The values a block's keys read to, absent ones at their defaults. */
export type Values<B extends Block> = {
  readonly [K in keyof B as B[K] extends ValueKey<unknown> ? K : never]: B[K] extends ValueKey<infer V> ? V : never;
};

interface Doc {
  readonly doc: string;
}
/** A default that is a plain value; the reference shows it as written unless `shown` says more. */
interface Fixed<T> extends Doc {
  readonly default: T;
  readonly why: string;
  readonly shown?: string;
}
/** A default computed when the config is read (from the machine or the config directory): `shown` says what it is. */
interface Computed<T> extends Doc {
  readonly defaultFrom: (ctx: ReadContext) => T;
  readonly why: string;
  readonly shown: string;
}
/** No value when absent: a required key, or one whose absence means something `absent` names (and `why` explains). */
type NoDefault = Doc & ({ readonly absent?: undefined } | { readonly absent: string; readonly why: string });

// NoInfer: the type comes from the value type alone; a default of "retry" must not widen oneOf's words to string.
export function key<T>(type: ValueType<T>, o: Fixed<NoInfer<T>>): ValueKey<T>;
export function key<T>(type: ValueType<T>, o: Computed<NoInfer<T>>): ValueKey<T>;
export function key<T>(type: ValueType<T>, o: NoDefault): ValueKey<T | undefined>;
export function key<T>(type: ValueType<T>, o: Fixed<T> | Computed<T> | NoDefault): ValueKey<T> | ValueKey<T | undefined> {
  const base = { kind: type.kind, doc: o.doc, parse: type.parse };
  if ('defaultFrom' in o) return { ...base, absent: o.defaultFrom, shown: o.shown, why: o.why };
  if ('default' in o) {
    const value = o.default;
    return { ...base, absent: () => value, shown: o.shown ?? show(value), why: o.why };
  }
  return { ...base, absent: () => undefined, shown: o.absent, why: o.absent === undefined ? undefined : o.why };
}

/** An lwsws key tsws does not implement, with why or when (shown in the warning and the reference). */
export function later(kind: KeyKind, notImplemented: string, doc: string): UnsupportedKey {
  return { kind, doc, notImplemented };
}

/** A default as lwsws would write it: booleans as "1"/"0", lists joined. */
function show(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (value instanceof Map) return value.size === 0 ? 'none' : [...value].map(([k, v]) => `${k}: ${v}`).join(', ');
  return String(value);
}
