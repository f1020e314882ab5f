/** @module Which websocket close codes and reasons an endpoint may send (RFC 6455 section 7.4). */

/** Codes a server may put in a close frame; 1004-1006 and 1015 are reserved, 1016-2999 unassigned. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/** Returns what is wrong with a close code and reason, or undefined when both are fine. */
export function checkCloseArgs(code: number, reason: string): string | undefined {
  if (!isSendableCloseCode(code)) return `code ${code} may not be sent`;
  if (Buffer.byteLength(reason) > 123) return 'reason is longer than 123 bytes';
  return undefined;
}

/** lws's LWS_CLOSE_STATUS_NOSTATUS: a client may close without a code (both ends then report 1005), and then without a reason. */
export const NO_STATUS = 1005;

/** checkCloseArgs for a client connection's close, which may also leave the code out (NO_STATUS). */
export function checkClientCloseArgs(code: number, reason: string): string | undefined {
  if (code === NO_STATUS) return reason === '' ? undefined : 'code 1005 (no code) carries no reason';
  return checkCloseArgs(code, reason);
}
