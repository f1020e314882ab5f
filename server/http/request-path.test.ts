import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from './request-path.ts';

const ok = (p: string) => {
  const r = normalizeRequestPath(p);
  return r.ok ? r.path : `refused: ${r.detail}`;
};

describe('request path normalisation', () => {
  it.each([
    ['/', '/'],
    ['/a/b.html', '/a/b.html'],
    ['/a//b/./c/', '/a/b/c/'],
    ['/a/b/../c', '/a/c'],
    ['/a/%20b', '/a/ b'],
    ['/%2e%2e/x', 'refused: ".." above the root'],
    ['/../etc/passwd', 'refused: ".." above the root'],
    ['/a/../../etc/passwd', 'refused: ".." above the root'],
    ['/%252e%252e/etc', '/%2e%2e/etc'],
    ['/a\\..\\..\\etc', 'refused: backslash in path'],
    ['/a%5c..%5cetc', 'refused: backslash in path'],
    ['/a%00.html', 'refused: NUL byte in path'],
    ['/%zz', 'refused: malformed percent-encoding'],
    ['http://evil/', 'refused: the request target must be an absolute path'],
    ['/a/..', '/'],
  ])('%s → %s', (input, expected) => {
    expect(ok(input)).toBe(expected);
  });

  it('never yields a path with a ".." or "." segment, a NUL or a backslash, whatever the input', () => {
    const piece = fc.constantFrom('a', '..', '.', '%2e', '%2E%2e', '%252e', '%2f', '%5c', '\\', '%00', '', 'x y', '%');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const r = normalizeRequestPath(`/${parts.join('/')}`);
        if (!r.ok) return true;
        const segments = r.path.split('/');
        return r.path.startsWith('/') && !segments.includes('..') && !segments.includes('.') && !r.path.includes('\0') && !r.path.includes('\\');
      }),
      { numRuns: 2000 },
    );
  });
});
