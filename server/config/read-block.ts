/** @module The one generic reader of a block of config keys: checks each key's name, parses its value, applies the defaults. */
import { tswsError } from '../base/errors.ts';
import type { Site } from './coerce.ts';
import type { Block, ReadContext, Values } from './key-spec.ts';
import { nearest } from './suggest.ts';

/** Another block, named as a message would: a key written in the wrong one is told where it belongs. */
export interface Elsewhere {
  readonly name: string;
  readonly keys: Block;
}

/**
 * Reports unknown keys (with a suggestion), keys from another block (a
 * warning: the seed's global block carries the vhost key "interface"), and
 * lwsws keys tsws knows but does not implement (a warning). Returns the keys
 * that should be interpreted, in the order written.
 */
export function checkKeys(obj: Record<string, unknown>, site: Site, block: string, keys: Block, elsewhere: readonly Elsewhere[]): string[] {
  const usable: string[] = [];
  for (const key of Object.keys(obj)) {
    const def = keys[key];
    const keySite = site.at(key);
    if (def) {
      if (def.notImplemented) site.diag.add(tswsError('TSWS_WARN_CONFIG_NOT_IMPLEMENTED', { where: keySite.where, key, note: def.notImplemented }));
      else usable.push(key);
      continue;
    }
    const other = elsewhere.find((e) => e.keys[key] !== undefined);
    if (other) {
      site.diag.add(tswsError('TSWS_WARN_CONFIG_WRONG_PLACE', { where: keySite.where, key, block, belongs: other.name }));
      continue;
    }
    const suggestion = nearest(key, Object.keys(keys));
    site.diag.add(tswsError('TSWS_ERR_CONFIG_UNKNOWN_KEY', { where: keySite.where, key, block, ...(suggestion ? { suggestion } : {}) }));
  }
  return usable;
}

/** One key as written: its value and where. */
export interface Written {
  readonly value: unknown;
  readonly site: Site;
}

/**
 * Every key of `keys` to its value: each written one parsed (in the order
 * given, so diagnostics follow the file), every other one at its default.
 * A refused value also reads as the default; its error already makes the
 * whole configuration invalid.
 */
export function readValues<B extends Block>(keys: B, written: ReadonlyMap<string, Written>, ctx: ReadContext): Values<B> {
  const out: Record<string, unknown> = {};
  for (const [name, w] of written) {
    const def = keys[name];
    if (def && def.notImplemented === undefined) out[name] = def.parse(w.value, w.site, name, ctx);
  }
  for (const [name, def] of Object.entries(keys)) {
    if (def.notImplemented === undefined && out[name] === undefined) out[name] = def.absent(ctx);
  }
  // Built key by key from `keys` itself: every ValueKey of B has its entry, of its parser's type.
  return out as Values<B>;
}

/** A block written as one object: its keys checked, then read. */
export function readBlock<B extends Block>(obj: Record<string, unknown>, site: Site, block: string, keys: B, elsewhere: readonly Elsewhere[], ctx: ReadContext): Values<B> {
  const written = new Map(checkKeys(obj, site, block, keys, elsewhere).map((k) => [k, { value: obj[k], site: site.at(k) }]));
  return readValues(keys, written, ctx);
}
