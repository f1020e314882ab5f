/** @module The shape of one error registry entry, and its two builders (errors.ts and the per-area files it spreads). */

export interface Entry<P> {
  readonly severity: 'error' | 'warning';
  readonly message: (p: P) => string;
  readonly hint: string;
  /** WebSocket close code used when this error ends a connection. */
  readonly closeCode?: number;
  /** HTTP status used when this error ends a request. */
  readonly httpStatus?: number;
}

export function error<P>(message: (p: P) => string, hint: string, extra: { closeCode?: number; httpStatus?: number } = {}): Entry<P> {
  return { severity: 'error', message, hint, ...extra };
}
export function warning<P>(message: (p: P) => string, hint: string): Entry<P> {
  return { severity: 'warning', message, hint };
}
