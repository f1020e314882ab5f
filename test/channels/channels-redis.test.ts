/** @module The channels' conformance suite across two instances sharing a real Redis (the Redis store): a SIGKILLed instance's members go within ttl-secs, FLUSHALL changes the epoch. */
import { afterAll } from 'vitest';
import { removeConfigDirs } from '../helpers/config-dir.ts';
import { killAll } from '../helpers/process.ts';
import { channelConformance } from './conformance.ts';
import { redisTarget } from './targets.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

channelConformance('two instances on Redis', redisTarget, { kill: true });
