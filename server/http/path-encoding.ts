/** @module Turns a decoded, normalised request path back into URL form for a redirect target or an upstream request. */

/** Characters RFC 3986 allows unescaped in a path segment (pchar) that encodeURIComponent escapes anyway. */
const PCHAR_KEPT = /%(?:21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g;

/** What encodePath leaves as it is: RFC 3986 unreserved characters, the pchar sub-delims, ":" and "@", and "/". */
const PLAIN_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * Each segment is percent-encoded on its own, so a decoded "%2F" (now a "/")
 * stays a separator, as lws treats it, and "?" or "#" inside a name cannot
 * start a query or fragment.
 */
export function encodePath(path: string): string {
  // Most paths: nothing in them would be escaped, so no split and join per request.
  if (PLAIN_PATH.test(path)) return path;
  return path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(PCHAR_KEPT, (c) => decodeURIComponent(c)))
    .join('/');
}

/** Joins a base path and a rest that starts with "/" (or is empty) without doubling the slash. */
export function joinPath(base: string, rest: string): string {
  if (rest === '') return base;
  return base.endsWith('/') ? base + rest.slice(1) : base + rest;
}
