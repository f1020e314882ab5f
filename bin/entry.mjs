// Runs one of tsws's programs: from its TypeScript sources where they are (this repository: tsx
// loads them, no build step), else from the compiled JavaScript the npm package ships in dist/
// (there, tsx is registered by the plugin loader, for your .ts plugins only).
import { existsSync } from 'node:fs';

export async function run(source) {
  const src = new URL(`../${source}`, import.meta.url);
  if (existsSync(src)) {
    const { register } = await import('tsx/esm/api');
    register();
    return import(src.href);
  }
  return import(new URL(`../dist/${source.replace(/\.ts$/, '.js')}`, import.meta.url).href);
}
