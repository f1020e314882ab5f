#!/usr/bin/env node
// tsws-tunnel: the private node's agent; run as bin/entry.mjs says (sources or dist/).
import { run } from './entry.mjs';

await run('plugins/tunnel/agent/main.ts');
