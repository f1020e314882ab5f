/** @module encodePath: the fast path for plain paths gives what the per-segment encoding gives. */
import { describe, expect, it } from 'vitest';
import { encodePath } from './path-encoding.ts';

/** The per-segment encoding itself, without the fast path. */
const slow = (path: string) =>
  path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%(?:21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g, (c) => decodeURIComponent(c)))
    .join('/');

describe('encodePath', () => {
  it('leaves a path of unreserved characters, sub-delims, ":" and "@" as it is', () => {
    const plain = "/a-Z_0.9~/!$&'()*+,;=:@/x";
    expect(encodePath(plain)).toBe(plain);
    expect(encodePath(plain)).toBe(slow(plain));
  });
  it('escapes what a path segment cannot hold, each segment on its own', () => {
    for (const p of ['/a b/c', '/q?x', '/h#f', '/caf\u00e9', '/100%', '/a"b', '/[x]', '/a|b', '/\u{1F600}']) expect(encodePath(p)).toBe(slow(p));
    expect(encodePath('/a b/?#')).toBe('/a%20b/%3F%23');
  });
  it('gives every printable ASCII character the same encoding as the per-segment path does', () => {
    for (let c = 0x20; c < 0x7f; c++) {
      const p = `/x${String.fromCharCode(c)}y`;
      expect(encodePath(p)).toBe(slow(p));
    }
  });
});
