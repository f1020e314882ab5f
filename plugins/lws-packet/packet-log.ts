/** @module The durable packet log: an append-only JSON-lines file, group-committed with fdatasync, plus a replay window. */
import fs from 'node:fs';
import path from 'node:path';
import { lockFile, type Conn, type FileLock } from '../../server/plugin/api.ts';

export interface StoredPacket {
  readonly id: number;
  /** Server time of acceptance, ms since the epoch. */
  readonly ts: number;
  readonly packet: unknown;
}

/**
 * What the plugin needs from a log: the file one here, or the cluster's
 * plugin's channel in a cluster (channel-packet-log.ts). Reads are asynchronous for the latter.
 */
export interface PacketLog {
  /** True when `append` also publishes the stored packet to the stream's subscribers (in id order, on every instance). */
  readonly publishesAppends: boolean;
  /** Resolves once the packet is durable, with its id; ids are consecutive. */
  append(packet: unknown): Promise<StoredPacket>;
  /** Kept packets with id > `after`, oldest first, at most `limit`. */
  read(after: number, limit: number): Promise<StoredPacket[]>;
  /** The oldest id kept (lastId + 1 when none) and the last id given (0 when none). */
  bounds(): Promise<{ readonly firstId: number; readonly lastId: number }>;
  /**
   * Delivers new packets to `conn`'s published queue from now on; resolves,
   * once in effect, with the last id given at that moment: where a stream
   * that asked for no replay starts.
   */
  follow(conn: Conn): Promise<number>;
  close(): Promise<void>;
}

export interface FileLogOptions {
  /** Packets kept for replay and in the file; older ones are compacted away. */
  readonly retention: number;
  /** fdatasync before acknowledging (default). Off: acknowledged packets survive a crash of the process, not of the machine. */
  readonly fsync: boolean;
}

interface Pending {
  readonly stored: StoredPacket;
  readonly line: string;
  resolve(p: StoredPacket): void;
  reject(err: unknown): void;
}

const FILE = 'packets.jsonl';

/**
 * Durability policy: append() resolves only after the batch holding its line
 * was written and (with fsync on) fdatasync'ed. Appends that arrive while a
 * sync is running wait for the next one, so the disk sees one sync per batch,
 * not one per packet. A crash can leave a torn last line: recovery drops it
 * (it was never acknowledged) and ids continue after the last whole line.
 */
export class FilePacketLog implements PacketLog {
  /** The topic the plugin publishes a durable packet on (vhost.publish), and followers subscribe to. */
  static readonly TOPIC = 'packets';
  readonly publishesAppends = false;
  readonly file: string;
  readonly #opts: FileLogOptions;
  #fd: number;
  #window: StoredPacket[];
  #linesInFile: number;
  #lastAssigned: number;
  #queue: Pending[] = [];
  /** The running flush loop; cleared synchronously when it finds the queue empty (no microtask gap). */
  #flushing: Promise<void> | undefined;
  #flushRunning = false;
  #closed = false;
  /** One writer per file: a second server on the same log-dir is refused (and a reload hands this object, lock and all, to its successor). */
  readonly #lock: FileLock;

  private constructor(file: string, fd: number, window: StoredPacket[], lines: number, opts: FileLogOptions, lock: FileLock) {
    this.file = file;
    this.#lock = lock;
    this.#fd = fd;
    this.#window = window;
    this.#linesInFile = lines;
    this.#lastAssigned = window.at(-1)?.id ?? 0;
    this.#opts = opts;
  }

  /** The file a log in `dir` writes. */
  static fileIn(dir: string): string {
    return path.join(dir, FILE);
  }

  /**
   * Locks, opens (creating) the log in `dir` and recovers it; throws
   * TSWS_ERR_FILE_LOCKED when another process writes it, and with the file
   * named if it is corrupt.
   */
  static open(dir: string, opts: FileLogOptions): { log: FilePacketLog; recoveredTornLine: boolean } {
    fs.mkdirSync(dir, { recursive: true });
    const file = FilePacketLog.fileIn(dir);
    const lock = lockFile(file);
    try {
      return FilePacketLog.#recover(file, opts, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  static #recover(file: string, opts: FileLogOptions, lock: FileLock): { log: FilePacketLog; recoveredTornLine: boolean } {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    const tail = lines.pop() ?? '';
    const packets: StoredPacket[] = [];
    lines.forEach((line, i) => {
      if (line === '') return;
      let p: StoredPacket;
      try {
        p = JSON.parse(line) as StoredPacket;
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON line; move the file away or repair that line`);
      }
      const prev = packets.at(-1);
      if (!Number.isInteger(p.id) || (prev && p.id !== prev.id + 1)) throw new Error(`${file}:${i + 1}: id ${p.id} does not follow ${prev?.id ?? 'the start'}`);
      packets.push(p);
    });
    // A tail without its newline was being written when the process died: never acknowledged.
    const recoveredTornLine = tail !== '';
    if (recoveredTornLine) fs.truncateSync(file, Buffer.byteLength(text) - Buffer.byteLength(tail));
    const fd = fs.openSync(file, 'a');
    const window = packets.slice(-opts.retention);
    return { log: new FilePacketLog(file, fd, window, packets.length, opts, lock), recoveredTornLine };
  }

  get lastId(): number {
    return this.#window.at(-1)?.id ?? this.#lastAssigned;
  }

  get firstId(): number {
    return this.#window[0]?.id ?? this.lastId + 1;
  }

  append(packet: unknown): Promise<StoredPacket> {
    if (this.#closed) return Promise.reject(new Error('the packet log is closed'));
    const stored: StoredPacket = { id: ++this.#lastAssigned, ts: Date.now(), packet };
    return new Promise((resolve, reject) => {
      this.#queue.push({ stored, line: `${JSON.stringify(stored)}\n`, resolve, reject });
      if (!this.#flushRunning) {
        this.#flushRunning = true;
        this.#flushing = this.#flushAll();
      }
    });
  }

  after(after: number, limit: number): StoredPacket[] {
    const first = this.#window[0]?.id;
    if (first === undefined) return [];
    const start = Math.max(0, after - first + 1);
    return this.#window.slice(start, start + limit);
  }

  async read(after: number, limit: number): Promise<StoredPacket[]> {
    return this.after(after, limit);
  }

  async bounds(): Promise<{ firstId: number; lastId: number }> {
    return { firstId: this.firstId, lastId: this.lastId };
  }

  /** Appends are published on the plugin's topic once durable (lws-packet.ts): a follower subscribes to it. */
  async follow(conn: Conn): Promise<number> {
    conn.subscribe(FilePacketLog.TOPIC);
    return this.lastId;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    fs.closeSync(this.#fd);
    this.#lock.release();
  }

  /**
   * Writes batches until the queue is empty. The running flag drops in the
   * same synchronous step that sees the queue empty: an await between the two
   * would let an append resolved-callback run, see the loop "running", queue
   * a packet and never have it written.
   */
  async #flushAll(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        this.#flushRunning = false;
        return;
      }
      const batch = this.#queue.splice(0);
      try {
        await write(this.#fd, batch.map((b) => b.line).join(''));
        if (this.#opts.fsync) await datasync(this.#fd);
      } catch (err) {
        for (const b of batch) b.reject(err);
        continue;
      }
      for (const b of batch) this.#window.push(b.stored);
      this.#linesInFile += batch.length;
      if (this.#window.length > this.#opts.retention) this.#window.splice(0, this.#window.length - this.#opts.retention);
      if (this.#linesInFile > 2 * this.#opts.retention) this.#compact();
      for (const b of batch) b.resolve(b.stored);
    }
  }

  /** Rewrites the file with only the kept window: temp file, fsync, rename, fsync the directory. */
  #compact(): void {
    const tmp = `${this.file}.compact`;
    fs.writeFileSync(tmp, this.#window.map((p) => `${JSON.stringify(p)}\n`).join(''));
    const tfd = fs.openSync(tmp, 'r');
    fs.fsyncSync(tfd);
    fs.closeSync(tfd);
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(path.dirname(this.file), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
    fs.closeSync(this.#fd);
    this.#fd = fs.openSync(this.file, 'a');
    this.#linesInFile = this.#window.length;
  }
}

/** Writes all of `text`, however many calls a short write takes. */
function write(fd: number, text: string): Promise<void> {
  const buf = Buffer.from(text);
  return new Promise((resolve, reject) => {
    const step = (offset: number) => {
      if (offset >= buf.length) return resolve();
      fs.write(fd, buf, offset, buf.length - offset, null, (err, n) => (err ? reject(err) : step(offset + n)));
    };
    step(0);
  });
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}
