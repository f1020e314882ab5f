/** @module The close-code label of tsws_ws_closes_total: registered codes as they are, client-chosen ones by range, so a client cannot mint series. */
import { REGISTRY } from '../base/errors.ts';

/** RFC 6455 §7.4.1 and the IANA registry: 1004 is reserved, 1005/1006/1015 are only reported, never sent. */
const REGISTERED = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015]);

/** The codes tsws's own errors close with (4001: a JWT expired): a fixed few, each its own series. */
const OWN = new Set(Object.values(REGISTRY).flatMap((e) => ('closeCode' in e && typeof e.closeCode === 'number' ? [e.closeCode] : [])));

/**
 * Why by range: the close code is the client's choice (3000-4999 are open to
 * libraries and applications), and each distinct label value is a series
 * Prometheus keeps; a client sending 1000 codes from 4000-4999 made 1000
 * series per vhost and protocol. The same grouping bounds the counter map.
 */
export function closeCodeLabel(code: number): string {
  if (REGISTERED.has(code) || OWN.has(code)) return String(code);
  if (code >= 3000 && code <= 3999) return '3xxx';
  if (code >= 4000 && code <= 4999) return '4xxx';
  return 'other';
}
