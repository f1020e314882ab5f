/** @module Recycled byte buffers (tsws/plugin's BufferPool): what lws_ring is to an lws plugin, for data held from `receive` until `writable`. */

/**
 * Smallest pooled size. Smaller copies come from Node's own Buffer pool
 * (Buffer.allocUnsafe carves them out of a shared 8 KiB slab), which costs
 * less than a pooled buffer's bookkeeping; release ignores them.
 */
const MIN_CLASS_BITS = 12;

/**
 * A plugin with receiveData 'view' copies what it keeps into one of these
 * and gives it back once written: in steady state no message allocates, so
 * 16 KiB messages stop driving V8 into mark-compacts (each fresh
 * ArrayBuffer counts as external memory until a full GC frees it).
 * Buffers come in power-of-two sizes; free ones are kept up to
 * `maxPooledBytes` in all (beyond that a given-back buffer is left to the
 * GC), and a message larger than `largest` is copied into a buffer of its
 * own that is never pooled.
 *
 * A buffer must be given back once, after its last use: one given back
 * while still queued would be handed out again and overwritten. A second
 * `release` of the same buffer is ignored.
 */
export class BufferPool {
  readonly #free: ArrayBuffer[][] = [];
  /** Backings handed out and not yet given back: release ignores anything else (a second release, a foreign buffer). */
  readonly #lent = new WeakSet<ArrayBuffer>();
  readonly #largest: number;
  readonly #maxPooledBytes: number;
  #pooledBytes = 0;

  constructor(opts: { readonly largest?: number; readonly maxPooledBytes?: number } = {}) {
    this.#largest = opts.largest ?? 1024 * 1024;
    this.#maxPooledBytes = opts.maxPooledBytes ?? 4 * 1024 * 1024;
  }

  /** Bytes held by free buffers now. */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** A buffer holding a copy of `data` (exactly data.length bytes long). */
  copy(data: Uint8Array): Buffer {
    const size = data.byteLength;
    if (size > this.#largest || size < 1 << (MIN_CLASS_BITS - 1)) {
      const own = Buffer.allocUnsafe(size);
      own.set(data);
      return own;
    }
    const bits = Math.max(MIN_CLASS_BITS, 32 - Math.clz32(size - 1));
    const ab = this.#free[bits]?.pop();
    let backing: ArrayBuffer;
    if (ab) {
      this.#pooledBytes -= ab.byteLength;
      backing = ab;
    } else {
      backing = new ArrayBuffer(1 << bits);
    }
    this.#lent.add(backing);
    const out = Buffer.from(backing, 0, size);
    out.set(data);
    return out;
  }

  /** Gives back a buffer `copy` returned, once nothing reads it any more. Anything else is ignored. */
  release(buf: Uint8Array): void {
    const ab = buf.buffer as ArrayBuffer;
    if (!this.#lent.delete(ab)) return;
    const size = ab.byteLength;
    if (this.#pooledBytes + size > this.#maxPooledBytes) return;
    (this.#free[31 - Math.clz32(size)] ??= []).push(ab);
    this.#pooledBytes += size;
  }
}
