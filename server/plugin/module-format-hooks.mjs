// Node module hooks: files under a plugin directory are ES modules, whatever package.json (if any) surrounds them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Without this, a .ts or .js plugin in a directory with no "type": "module"
// package.json (say /etc/tsws/plugins) would be loaded as CommonJS and fail
// on its first `export`. Each register() call adds the directories it names.
let dirs = [];

export function initialize(data) {
  dirs = data.dirs.map((d) => path.resolve(d) + path.sep);
}

const SOURCE = /\.(?:ts|mts|js|mjs)$/;

function inPluginDir(url) {
  if (!url.startsWith('file:')) return false;
  const file = fileURLToPath(url);
  return SOURCE.test(file) && !file.includes(`${path.sep}node_modules${path.sep}`) && dirs.some((d) => file.startsWith(d));
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  return inPluginDir(result.url) ? { ...result, format: 'module' } : result;
}

export async function load(url, context, nextLoad) {
  return nextLoad(url, inPluginDir(url) ? { ...context, format: 'module' } : context);
}
