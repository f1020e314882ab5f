/** @module Decodes and normalises a request path once, refusing anything that could climb out of a mount. */

export type PathResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly detail: string };

/**
 * Decode once, then normalise, like lws's URI parser. Refused with 400:
 * malformed percent-encoding, NUL, backslashes (a Windows separator, never a
 * name character worth serving), and ".." that would climb above "/".
 * What double encoding leaves behind after one decode ("%2e%2e") is a literal
 * file name, never a separator, so it cannot climb either.
 */
/** Nothing to decode or resolve: no "%", "\\", NUL, "//" or a segment starting with ".". */
// Each segment ends at a "/" (or the end): no ambiguous split, so no backtracking blow-up on long input.
const ALREADY_NORMAL = /^\/(?:[^/%\\\0.][^/%\\\0]*\/)*(?:[^/%\\\0.][^/%\\\0]*)?$/;

export function normalizeRequestPath(raw: string): PathResult {
  // Most requests are already normal; answering them here skips a split and a join.
  if (ALREADY_NORMAL.test(raw)) return { ok: true, path: raw };
  if (!raw.startsWith('/')) return { ok: false, detail: 'the request target must be an absolute path' };
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return { ok: false, detail: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0')) return { ok: false, detail: 'NUL byte in path' };
  if (decoded.includes('\\')) return { ok: false, detail: 'backslash in path' };

  const segments = decoded.split('/');
  const out: string[] = [];
  for (const seg of segments) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return { ok: false, detail: '".." above the root' };
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const last = segments[segments.length - 1];
  const trailing = out.length > 0 && (last === '' || last === '.' || last === '..');
  return { ok: true, path: `/${out.join('/')}${trailing ? '/' : ''}` };
}
