/** @module The channels' conformance suite on one process alone (the local store). */
import { afterAll } from 'vitest';
import { removeConfigDirs } from '../helpers/config-dir.ts';
import { killAll } from '../helpers/process.ts';
import { channelConformance } from './conformance.ts';
import { aloneTarget } from './targets.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

channelConformance('one process', aloneTarget, { kill: false });
