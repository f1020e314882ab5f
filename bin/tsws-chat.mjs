#!/usr/bin/env node
// tsws-chat: the console chat client; run as bin/entry.mjs says (sources or dist/).
import { run } from './entry.mjs';

await run('plugins/chat/console/main.ts');
