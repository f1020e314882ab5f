/** @module The handshake: one function decides on a node's hello, whether it came over HTTP or as a tunnel's first frame. */
import type { TokenBook } from './tokens.ts';
import { NODE_ID, OFFERS, WIRE_VERSIONS, parseHello, readObject, type Hello, type Offer, type Refused, type RefusalCode, type Welcome } from './wire.ts';

/** What the public node promises every node it welcomes (from the plugin's options). */
export interface Terms {
  readonly heartbeatSecs: number;
  readonly window: number;
  readonly messageWindow: number;
  readonly maxMessageBytes: number;
  /** The largest forwarded websocket message (v2). */
  readonly wsMaxMessage: number;
}

export type HandshakeResult =
  | { readonly ok: true; readonly hello: Hello; readonly offers: readonly Offer[]; readonly answer: Welcome }
  | { readonly ok: false; readonly answer: Refused; readonly status: 400 | 403 };

const refuse = (code: RefusalCode, message: string): HandshakeResult => ({ ok: false, answer: { type: 'refused', code, message }, status: code === 'bad-credentials' ? 403 : 400 });

/**
 * Validates a hello (the JSON text as received) and builds the answer both
 * transports send as it is: a websocket as one TEXT frame, HTTP as the
 * response body (with 200, 400 or 403). What happens next, registering a
 * tunnel or an HTTP address, is the caller's: the decision is made here only.
 *
 * An unknown id and a wrong token get the same refusal, so nobody can probe
 * which node ids exist.
 */
export function handshake(text: string, tokens: TokenBook, terms: Terms): HandshakeResult {
  const obj = readObject(text);
  if (!obj.ok) return refuse('bad-hello', obj.error);
  const parsed = parseHello(obj.value);
  if (!parsed.ok) return refuse('bad-hello', parsed.error);
  const hello = parsed.value;
  if (!WIRE_VERSIONS.includes(hello.v)) return refuse('bad-version', `this server speaks tunnel wire versions ${WIRE_VERSIONS.join(' and ')}, not ${hello.v}`);
  if (!NODE_ID.test(hello.id)) return refuse('bad-hello', 'a node id is 1-63 lower-case letters, digits or "-" (not at either end)');
  if (hello.url !== undefined && !isHttpUrl(hello.url)) return refuse('bad-hello', '"url" must be an absolute http:// or https:// URL');
  if (!tokens.check(hello.id, hello.token)) return refuse('bad-credentials', 'unknown node id or wrong token');
  // A version 1 agent knows no websocket frames: it is never sent any, whatever it says.
  const offers = OFFERS.filter((o) => hello.offers.includes(o) && (o !== 'websocket' || hello.v >= 2));
  const { wsMaxMessage, ...v1terms } = terms;
  return {
    ok: true,
    hello,
    offers,
    answer: { type: 'welcome', v: hello.v, id: hello.id, offers, ...v1terms, ...(hello.v >= 2 ? { wsMaxMessage } : {}) },
  };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
