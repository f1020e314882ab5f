/** @module Polling for a condition on real sockets; the cuttable TCP relay is switch-relay.ts's. */

/** Polls `check` until it holds (the test's own timeout bounds the wait: no sleeping for a guessed time). */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}
