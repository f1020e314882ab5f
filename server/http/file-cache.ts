/** @module Resolves files under a mount root (never outside it) and keeps small ones in memory, revalidated by stat. */
import fs from 'node:fs';
import path from 'node:path';

export type FileLookup =
  | { readonly kind: 'file'; readonly entry: CachedFile }
  | { readonly kind: 'directory' }
  | { readonly kind: 'missing' }
  /** exists, but resolves outside the mount root (a symlink out) */
  | { readonly kind: 'outside' };

export interface CachedFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly etag: string;
  /** The whole file when it is small enough to keep; undefined means stream it. */
  readonly body: Buffer | undefined;
}

interface Slot {
  lookup: FileLookup;
  checkedAt: number;
}

/**
 * Files are looked up with sync calls on purpose: for a few-KiB static file a
 * stat and read from the page cache take microseconds, less than scheduling
 * async work, and the result is then served from memory. Each entry is
 * re-stat'ed at most once per `revalidateMs` (nginx's open_file_cache_valid),
 * so an edited file is served within that time.
 */
export class FileCache {
  /**
   * Per mount root, keyed by the path asked for: a hit hashes the request's
   * path and nothing else (a "root + path" key would be a new string to
   * build and hash on every request). Entries are evicted oldest first, by
   * the order of #order.
   */
  readonly #slots = new Map<string, Map<string, Slot>>();
  /** Every entry, oldest first: its root's map and its key there. */
  readonly #order = new Map<Slot, { readonly perRoot: Map<string, Slot>; readonly relative: string }>();
  readonly #roots = new Map<string, string | undefined>();
  #bytes = 0;

  constructor(
    readonly revalidateMs = 1000,
    readonly maxFileBytes = 256 * 1024,
    readonly maxTotalBytes = 64 * 1024 * 1024,
  ) {}

  lookup(root: string, relative: string, now = Date.now()): FileLookup {
    // Keyed by what was asked, so a hit needs no path.join.
    let perRoot = this.#slots.get(root);
    if (!perRoot) this.#slots.set(root, (perRoot = new Map()));
    const slot = perRoot.get(relative);
    if (slot && now - slot.checkedAt < this.revalidateMs) return slot.lookup;
    const lookup = this.#resolve(root, path.join(root, relative), slot?.lookup);
    this.#store(perRoot, relative, { lookup, checkedAt: now });
    return lookup;
  }

  #realRoot(root: string): string | undefined {
    if (!this.#roots.has(root)) {
      let real: string | undefined;
      try {
        real = fs.realpathSync(root);
      } catch {
        real = undefined;
      }
      this.#roots.set(root, real);
    }
    return this.#roots.get(root);
  }

  #resolve(root: string, target: string, previous: FileLookup | undefined): FileLookup {
    const realRoot = this.#realRoot(root);
    if (!realRoot) return { kind: 'missing' };
    let real: string;
    let st: fs.Stats;
    try {
      real = fs.realpathSync(target);
      st = fs.statSync(real);
    } catch {
      return { kind: 'missing' };
    }
    // Symlinks may point anywhere inside the root, never outside it.
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return { kind: 'outside' };
    if (st.isDirectory()) return { kind: 'directory' };
    if (!st.isFile()) return { kind: 'missing' };
    if (previous?.kind === 'file' && previous.entry.mtimeMs === st.mtimeMs && previous.entry.size === st.size && previous.entry.path === real) {
      return previous;
    }
    let body: Buffer | undefined;
    if (st.size <= this.maxFileBytes) {
      try {
        body = fs.readFileSync(real);
      } catch {
        return { kind: 'missing' };
      }
    }
    // lws's ETag: file length and mtime in hex, here quoted as RFC 9110 wants.
    const etag = `"${st.size.toString(16).toUpperCase().padStart(8, '0')}${Math.floor(st.mtimeMs / 1000).toString(16).toUpperCase().padStart(8, '0')}"`;
    return { kind: 'file', entry: { path: real, size: st.size, mtimeMs: st.mtimeMs, etag, body } };
  }

  #store(perRoot: Map<string, Slot>, relative: string, slot: Slot): void {
    const old = perRoot.get(relative);
    if (old) this.#forget(old, perRoot, relative);
    perRoot.set(relative, slot);
    this.#order.set(slot, { perRoot, relative });
    if (slot.lookup.kind === 'file') this.#bytes += slot.lookup.entry.body?.length ?? 0;
    // Evict oldest-inserted entries past the byte or entry budget.
    for (const [s, at] of this.#order) {
      if (this.#bytes <= this.maxTotalBytes && this.#order.size <= 10000) break;
      this.#forget(s, at.perRoot, at.relative);
    }
  }

  #forget(slot: Slot, perRoot: Map<string, Slot>, relative: string): void {
    if (slot.lookup.kind === 'file') this.#bytes -= slot.lookup.entry.body?.length ?? 0;
    perRoot.delete(relative);
    this.#order.delete(slot);
  }
}
