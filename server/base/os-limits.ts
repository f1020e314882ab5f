/** @module Limits the operating system sets on this process, as /proc tells them. */
import fs from 'node:fs';

/** The soft limit on open files ("Max open files" in /proc/self/limits), or undefined where that cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
