#!/usr/bin/env node
// tsws command: registers tsx so the TypeScript sources and .ts plugins load with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../server/main.ts');
