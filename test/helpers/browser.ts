/** @module Debian's Chromium for the browser tests: where it is, whether it is there, and launching it headless. */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

/** Installed here (CI installs it with .ci/run; the browser suites run there whatever this says). */
export const chromiumPresent = fs.existsSync(CHROMIUM);

/** Fails with what to install when the browser is missing, rather than a launch error. */
export function launchChromium(): Promise<Browser> {
  expect(chromiumPresent, `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
