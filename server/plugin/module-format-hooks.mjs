// Node module hooks: files under a plugin directory are ES modules, whatever package.json (if any)
// surrounds them, and `tsws` / `tsws/...` imports mean the running tsws (module-format.ts says why).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Without this, a .ts or .js plugin in a directory with no "type": "module"
// package.json (say /etc/tsws/plugins) would be loaded as CommonJS and fail
// on its first `export`. Each register() call adds the directories it names.
let dirs = [];
/** Public specifier → file URL of the running tsws's module. */
let self = {};

export function initialize(data) {
  dirs = data.dirs.map((d) => path.resolve(d) + path.sep);
  self = data.self;
}

const SOURCE = /\.(?:ts|mts|js|mjs)$/;

function inPluginDir(url) {
  if (!url.startsWith('file:')) return false;
  const file = fileURLToPath(url.split('?')[0]);
  return SOURCE.test(file) && !file.includes(`${path.sep}node_modules${path.sep}`) && dirs.some((d) => file.startsWith(d));
}

/**
 * A reload imports plugin entries with ?tsws-generation=N so Node's module
 * cache cannot hand back the old code. The same tag is carried to every file
 * the entry imports from inside a plugin directory, so a changed helper file
 * of a plugin takes effect too (framework imports stay shared).
 */
export async function resolve(specifier, context, nextResolve) {
  // Through the rest of the chain, not short-circuited: from sources tsx's resolve must see the
  // .ts file, or its load refuses it (a tsws/* module no framework file had loaded yet failed so).
  if (Object.hasOwn(self, specifier)) return nextResolve(self[specifier], context);
  const result = await nextResolve(specifier, context);
  if (!inPluginDir(result.url)) return result;
  const tag = context.parentURL && new URL(context.parentURL).searchParams.get('tsws-generation');
  const url = new URL(result.url);
  if (tag && !url.searchParams.has('tsws-generation')) url.searchParams.set('tsws-generation', tag);
  return { ...result, url: url.href, format: 'module' };
}

export async function load(url, context, nextLoad) {
  return nextLoad(url, inPluginDir(url) ? { ...context, format: 'module' } : context);
}
