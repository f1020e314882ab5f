/** @module A websocket client of raw frames: sends what a browser never would, reads back every frame and the close. */
import crypto from 'node:crypto';
import net from 'node:net';

export interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

export interface FrameOptions {
  readonly fin?: boolean;
  /** RSV1..3 as the three bits 0b100, 0b010, 0b001. */
  readonly rsv?: number;
  /** A client must mask (RFC 6455 5.1); false sends it bare. */
  readonly masked?: boolean;
  /** The length claimed in the header, when it should differ from the payload's. */
  readonly claimedLength?: bigint;
}

/** One client frame as RFC 6455 5.2 lays it out, masked unless told otherwise. */
export function frame(opcode: number, payload: Buffer | string, opts: FrameOptions = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const masked = opts.masked ?? true;
  const len = opts.claimedLength ?? BigInt(body.length);
  const first = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  const m = masked ? 0x80 : 0;
  let head: Buffer;
  if (len < 126n) head = Buffer.from([first, m | Number(len)]);
  else if (len < 65536n) head = Buffer.from([first, m | 126, Number(len >> 8n), Number(len & 255n)]);
  else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = m | 127;
    head.writeBigUInt64BE(len, 2);
  }
  if (!masked) return Buffer.concat([head, body]);
  const mask = crypto.randomBytes(4);
  return Buffer.concat([head, mask, Buffer.from(body.map((b, i) => b ^ (mask[i % 4] as number)))]);
}

/** A close frame's payload: the code, then the reason's bytes. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** The server's close: its code (1005 when the frame had none) and reason; `frame: false` when the TCP connection ended without one. */
export interface Ending {
  readonly frame: boolean;
  readonly code: number;
  readonly reason: Buffer;
}

/**
 * A raw connection after its 101. Frames from the server are parsed as they
 * come; `ended` resolves when the server closes the TCP connection (or the
 * liveness bound passes: then `frame` is false and code 0, which no assertion
 * of a close code accepts).
 */
export class RawWebSocket {
  readonly frames: Frame[] = [];
  readonly ended: Promise<Ending>;
  #buf = Buffer.alloc(0);
  #close: Ending | undefined;
  #waiters: (() => void)[] = [];

  private constructor(
    readonly socket: net.Socket,
    readonly head: string,
    rest: Buffer,
  ) {
    this.ended = new Promise((resolve) => {
      const bound = setTimeout(() => {
        socket.destroy();
        resolve(this.#close ?? { frame: false, code: 0, reason: Buffer.alloc(0) });
      }, 10_000);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(this.#close ?? { frame: false, code: 0, reason: Buffer.alloc(0) });
      });
    });
    socket.on('data', (c) => this.#take(c));
    this.#take(rest);
  }

  /**
   * Opens a websocket on 127.0.0.1:port with a raw handshake: asking for
   * `protocol` when given, with `connection` as the Connection header.
   */
  static open(port: number, protocol: string | undefined, connection = 'Upgrade'): Promise<RawWebSocket> {
    const key = crypto.randomBytes(16).toString('base64');
    const request =
      `GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: ${connection}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: ${key}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`;
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
      let got = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        got = Buffer.concat([got, c]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const head = got.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no 101: ${head.split('\r\n')[0]}`));
        resolve(new RawWebSocket(socket, head, got.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.on('error', () => undefined);
      socket.once('close', () => reject(new Error('closed before the 101')));
    });
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** The next data frame (text or binary, or a continuation) the server sends; undefined if it closes first. */
  async nextData(): Promise<Frame | undefined> {
    for (;;) {
      const i = this.frames.findIndex((f) => f.opcode < 0x8);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.socket.destroyed || this.#close) return undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        this.socket.once('close', resolve);
      });
    }
  }

  #take(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const f = parseServerFrame(this.#buf);
      if (!f) break;
      this.#buf = this.#buf.subarray(f.size);
      if (f.frame.opcode === OP.close) {
        const p = f.frame.payload;
        this.#close = { frame: true, code: p.length >= 2 ? p.readUInt16BE(0) : 1005, reason: p.subarray(2) };
      } else this.frames.push(f.frame);
    }
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** A server frame (never masked) at the start of `buf`, or undefined until it is complete. */
function parseServerFrame(buf: Buffer): { frame: Frame; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0] as number;
  const b1 = buf[1] as number;
  let len = b1 & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  if (buf.length < at + len) return undefined;
  return { frame: { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: Buffer.from(buf.subarray(at, at + len)) }, size: at + len };
}
