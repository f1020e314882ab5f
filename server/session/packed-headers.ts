/** @module A request's headers packed into one string for a websocket's life: common names and whole upgrade lines as one character each. */

/** Between names and values: neither can contain a line feed (it ends a header line). */
const SEP = '\n';

/**
 * Names a browser or a websocket client commonly sends, each packed as one
 * character below U+0020 (no header name can hold one: names are tokens).
 */
const NAMES = [
  'host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'origin', 'user-agent', 'cookie', 'authorization', 'accept-encoding',
  'accept-language', 'cache-control', 'pragma', 'x-forwarded-for',
] as const;

/**
 * Whole lines every RFC 6455 upgrade carries (the forms browsers and most
 * clients send), packed as one character with an empty value: a further
 * ~50 bytes less on an idle connection.
 */
const LINES: readonly (readonly [string, string])[] = [
  ['upgrade', 'websocket'],
  ['connection', 'Upgrade'],
  ['sec-websocket-version', '13'],
  ['connection', 'keep-alive, Upgrade'],
  ['sec-websocket-extensions', 'permessage-deflate; client_max_window_bits'],
];

/** One character each, below U+0020 and never SEP. */
const CODES = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).filter((c) => c !== SEP);
/** What a code stands for: a name (its value follows) or a whole line. */
const DECODE = new Map<string, { readonly name: string; readonly value?: string }>();
const nameCode = new Map<string, string>();
/** Per name, its usual lines' values and codes: no string made per header to look a line up. */
const lineCode = new Map<string, [string, string][]>();
NAMES.forEach((name, i) => {
  const c = CODES[i] as string;
  nameCode.set(name, c);
  DECODE.set(c, { name });
});
LINES.forEach(([name, value], i) => {
  const c = CODES[NAMES.length + i] as string;
  const known = lineCode.get(name) ?? [];
  known.push([value, c]);
  lineCode.set(name, known);
  DECODE.set(c, { name, value });
});

function lineCodeOf(name: string, value: string): string | undefined {
  const known = lineCode.get(name);
  if (known) for (const [v, c] of known) if (v === value) return c;
  return undefined;
}

/** Packs name/value pairs (lower-case names, as the transport gives them) into one flat string. */
export function packHeaders(pairs: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const k = pairs[i] as string;
    const v = pairs[i + 1] as string;
    const line = lineCodeOf(k, v);
    if (line !== undefined) out.push(line, '');
    else out.push(nameCode.get(k) ?? k, v);
  }
  // join() yields one flat string; the parts become garbage at once.
  return out.join(SEP);
}

/** Calls `fn` with each header of a packed string, in the order received. */
export function forEachPacked(packed: string, fn: (name: string, value: string) => void): void {
  if (packed === '') return;
  const parts = packed.split(SEP);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const k = parts[i] as string;
    const code = k.length === 1 ? DECODE.get(k) : undefined;
    if (!code) fn(k, parts[i + 1] as string);
    else fn(code.name, code.value ?? (parts[i + 1] as string));
  }
}
