// count-threads: a worker thread's entry. From the sources it registers tsx in this thread (hooks are
// per thread) before loading the TypeScript worker; the compiled package (dist/) loads worker.js,
// and its plugin loader registers tsx for .ts plugins.
import { existsSync } from 'node:fs';

const source = new URL('./worker.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./worker.js', import.meta.url).href);
}
