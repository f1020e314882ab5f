#!/usr/bin/env node
// tsws-chat: the console chat client; registers tsx so its TypeScript sources load with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../plugins/chat/console/main.ts');
