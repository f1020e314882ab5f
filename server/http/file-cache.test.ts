import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCache } from './file-cache.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-file-cache-'));
const other = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-file-cache-'));
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(other, { recursive: true, force: true });
});

function body(cache: FileCache, r: string, rel: string, now: number): string {
  const found = cache.lookup(r, rel, now);
  return found.kind === 'file' ? String(found.entry.body) : found.kind;
}

describe('FileCache', () => {
  it('serves from memory until the entry is revalidated, per root', () => {
    fs.writeFileSync(path.join(root, 'a.txt'), 'one');
    fs.writeFileSync(path.join(other, 'a.txt'), 'other');
    const cache = new FileCache(1000);
    expect(body(cache, root, '/a.txt', 0)).toBe('one');
    expect(body(cache, other, '/a.txt', 0)).toBe('other');
    fs.writeFileSync(path.join(root, 'a.txt'), 'two!');
    expect(body(cache, root, '/a.txt', 999)).toBe('one');
    expect(body(cache, root, '/a.txt', 1000)).toBe('two!');
    expect(body(cache, other, '/a.txt', 1000)).toBe('other');
  });

  it('evicts the oldest entries past its byte budget, across roots', () => {
    for (const n of ['x', 'y']) fs.writeFileSync(path.join(root, `${n}.txt`), '0123456789');
    fs.writeFileSync(path.join(other, 'z.txt'), '0123456789');
    const cache = new FileCache(1000, 256 * 1024, 25);
    expect(body(cache, root, '/x.txt', 0)).toBe('0123456789');
    expect(body(cache, root, '/y.txt', 0)).toBe('0123456789');
    expect(body(cache, other, '/z.txt', 0)).toBe('0123456789');
    // x was evicted (30 bytes > 25): read again from disk at once; y and z still come from memory.
    for (const n of ['x', 'y']) fs.writeFileSync(path.join(root, `${n}.txt`), 'changed');
    fs.writeFileSync(path.join(other, 'z.txt'), 'changed');
    expect(body(cache, root, '/x.txt', 1)).toBe('changed');
    expect(body(cache, other, '/z.txt', 1)).toBe('0123456789');
  });
});
