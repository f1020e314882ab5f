#!/usr/bin/env node
// tsws-tunnel: the private node's agent; registers tsx so its TypeScript sources load with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../plugins/tunnel/agent/main.ts');
