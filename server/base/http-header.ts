/** @module What a response header may hold: one rule for the config's headers and for headers a plugin writes. */

/** RFC 9110 token characters: what a header name may hold. */
export const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Why `name: value` cannot go into a response head as it is, or undefined when
 * it can. The transport writes headers byte for byte: a CR or LF in either
 * would end the header early and start another (or a whole response of its
 * own, which a client on a kept connection takes for the next answer), and a
 * NUL is cut or refused differently by every reader.
 */
export function headerProblem(name: string, value: string): string | undefined {
  if (!HEADER_TOKEN.test(name)) return 'the name is not an HTTP token';
  if (/[\r\n\0]/.test(value)) return 'the value holds a CR, LF or NUL';
  return undefined;
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1): they stay on their own hop, never
 * relayed by a proxy mount or the tunnel. "proxy" is not one, but a CGI
 * service behind the relay would read it as HTTP_PROXY ("httpoxy").
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'proxy']);

/** The header names a Connection header lists (lower case): hop-by-hop too. */
export function connectionListed(value: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const t of (value ?? '').split(',')) {
    const name = t.trim().toLowerCase();
    if (name) out.add(name);
  }
  return out;
}
