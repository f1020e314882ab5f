/** @module BufferPool: copies hold their bytes, given-back buffers are reused once, foreign or repeated releases are ignored, the bounds hold. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('BufferPool', () => {
  it('reuses a given-back backing for the next copy of its size class, and never one still lent', () => {
    const pool = new BufferPool();
    const a = pool.copy(bytes(5000, 1));
    const b = pool.copy(bytes(6000, 2));
    expect(a.buffer).not.toBe(b.buffer);
    expect([a.length, a.buffer.byteLength]).toEqual([5000, 8192]);
    pool.release(a);
    expect(pool.pooledBytes).toBe(8192);
    const c = pool.copy(bytes(7000, 3));
    expect(c.buffer).toBe(a.buffer);
    expect(pool.pooledBytes).toBe(0);
    expect(b.every((x) => x === 2)).toBe(true);
    expect(c.every((x) => x === 3)).toBe(true);
  });

  it('ignores a second release, a foreign buffer and a small copy (Node pool), so no backing is ever lent twice', () => {
    const pool = new BufferPool();
    const a = pool.copy(bytes(4096, 1));
    pool.release(a);
    pool.release(a);
    pool.release(Buffer.alloc(4096));
    const small = pool.copy(bytes(100, 9));
    pool.release(small);
    expect(pool.pooledBytes).toBe(4096);
    const x = pool.copy(bytes(4000, 4));
    const y = pool.copy(bytes(4000, 5));
    expect(x.buffer).not.toBe(y.buffer);
    expect(small.every((v) => v === 9)).toBe(true);
  });

  it('keeps at most maxPooledBytes free and never pools a copy larger than `largest`', () => {
    const pool = new BufferPool({ largest: 16384, maxPooledBytes: 16384 });
    const lent = [1, 2, 3].map((i) => pool.copy(bytes(8000, i)));
    for (const b of lent) pool.release(b);
    expect(pool.pooledBytes).toBe(16384);
    const big = pool.copy(bytes(20000, 7));
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(20000);
    pool.release(big);
    expect(pool.pooledBytes).toBe(16384);
  });

  it('under any sequence of copies and releases, every lent buffer keeps its own bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 70000 }), fc.constant(-1)), { maxLength: 80 }), (ops) => {
        const pool = new BufferPool({ maxPooledBytes: 65536 });
        const lent: { buf: Buffer; fill: number }[] = [];
        let fill = 0;
        for (const op of ops) {
          if (op === -1) {
            const gone = lent.shift();
            if (gone) pool.release(gone.buf);
          } else {
            fill = (fill + 1) % 256;
            lent.push({ buf: pool.copy(bytes(op, fill)), fill });
          }
        }
        for (const { buf, fill: f } of lent) expect(buf.every((v) => v === f)).toBe(true);
      }),
    );
  });
});
