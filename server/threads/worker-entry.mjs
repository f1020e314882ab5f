// count-threads: a worker thread's entry; registers tsx in this thread (hooks are per thread) before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
