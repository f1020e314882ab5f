/** @module Plugin API, the small types every kind of connection shares (re-exported by api.ts). */

/** What a write did: queued on the wire, queued behind backpressure, or refused. */
export type WriteStatus = 'sent' | 'backpressure' | 'dropped';

export interface Timer {
  cancel(): void;
}
