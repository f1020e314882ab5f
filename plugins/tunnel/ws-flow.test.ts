import { describe, expect, it } from 'vitest';
import { MAX_CHUNK } from './wire.ts';
import { MessageAssembler, PIECE_COST, PieceQueue, closeReason, costOf, type Piece } from './ws-flow.ts';

const WINDOW = 64 * 1024;

/** A sender and a receiver joined directly, credit going back at once: what arrives, and how much was ever unacknowledged. */
function pair(maxMessage = 4 * 1024 * 1024) {
  const credits: number[] = [];
  const rx = new MessageAssembler(maxMessage, WINDOW, (b) => credits.push(b));
  const tx = new PieceQueue(WINDOW);
  const move = () => {
    for (let p = tx.take(); p; p = tx.take()) {
      const err = rx.piece(p);
      if (err) throw new Error(err);
    }
  };
  const settle = () => {
    for (let c = credits.shift(); c !== undefined; c = credits.shift()) tx.credit(c);
  };
  return { rx, tx, move, settle, credits };
}

describe('forwarded websocket messages in pieces', () => {
  it('cuts a message into full pieces and a last one; an empty message is one empty last piece', () => {
    const q = new PieceQueue(10 * MAX_CHUNK);
    q.push(Buffer.alloc(2 * MAX_CHUNK + 3, 1), true);
    q.push(Buffer.alloc(0), false);
    const pieces: Piece[] = [];
    for (let p = q.take(); p; p = q.take()) pieces.push(p);
    expect(pieces.map((p) => [p.payload.length, p.fin, p.binary])).toEqual([[MAX_CHUNK, false, true], [MAX_CHUNK, false, true], [3, true, true], [0, true, false]]);
  });

  it('a message four windows long flows while nothing waits at the receiver, and comes out whole', () => {
    const { rx, tx, move, settle } = pair();
    const big = Buffer.alloc(4 * WINDOW, 9);
    tx.push(big, true);
    for (let i = 0; i < 100 && !tx.isEmpty; i++) {
      move();
      settle();
    }
    expect(tx.isEmpty).toBe(true);
    const m = rx.next();
    expect(m?.binary).toBe(true);
    expect(m?.data.equals(big)).toBe(true);
  });

  it('while the destination has not taken a message, the sender stops at one window; taking it lets the rest through', () => {
    const { rx, tx, move, settle } = pair();
    tx.push(Buffer.from('first'), false);
    move();
    settle();
    expect(rx.next()?.data.toString()).toBe('first'); // handed on, not taken yet
    for (let i = 0; i < 8; i++) tx.push(Buffer.alloc(MAX_CHUNK, i), true);
    move();
    settle();
    // One window's worth arrived and is owed: no credit came back, the rest waits at the sender.
    expect(tx.canSend).toBe(false);
    expect(tx.queuedBytes).toBeGreaterThan(0);
    expect(rx.pending).toBe(Math.floor(WINDOW / costOf(MAX_CHUNK)));
    rx.taken();
    for (let m = rx.next(); m; m = rx.next()) rx.taken();
    settle();
    expect(tx.canSend).toBe(true);
  });

  it('refuses a sender past its window, a short piece in the middle of a message, a text/binary switch, an oversized message', () => {
    const rx = new MessageAssembler(100 * 1024, WINDOW, () => undefined);
    expect(rx.piece({ payload: Buffer.from('x'), fin: true, binary: false })).toBeUndefined();
    rx.next(); // waits for the destination: what follows is owed
    let err: string | undefined;
    for (let i = 0; i < 3 && !err; i++) err = rx.piece({ payload: Buffer.alloc(MAX_CHUNK), fin: i === 2, binary: true });
    expect(err).toBe(`went past its credit window of ${WINDOW}`);
    const fresh = () => new MessageAssembler(100 * 1024, WINDOW, () => undefined);
    expect(fresh().piece({ payload: Buffer.alloc(10), fin: false, binary: true })).toBe(`a piece that is not its message's last carries ${MAX_CHUNK} bytes`);
    const mixed = fresh();
    mixed.piece({ payload: Buffer.alloc(MAX_CHUNK), fin: false, binary: true });
    expect(mixed.piece({ payload: Buffer.alloc(1), fin: true, binary: false })).toBe('a message changed between text and binary');
    const big = fresh();
    for (let i = 0; i < 3; i++) expect(big.piece({ payload: Buffer.alloc(MAX_CHUNK), fin: false, binary: true })).toBeUndefined();
    expect(big.piece({ payload: Buffer.alloc(MAX_CHUNK), fin: false, binary: true })).toBe('a message over 102400 bytes');
  });

  it('even empty messages cost credit, so a window bounds how many wait', () => {
    const { rx, tx, move, settle } = pair();
    tx.push(Buffer.from('held'), false);
    move();
    rx.next();
    for (let i = 0; i < 10_000; i++) tx.push(Buffer.alloc(0), false);
    move();
    settle();
    expect(rx.pending).toBeLessThanOrEqual(WINDOW / PIECE_COST);
  });

  it('close reasons are cut to the 123 bytes a close frame holds, by whole characters', () => {
    expect(Buffer.byteLength(closeReason('é'.repeat(100)))).toBe(122);
    expect(closeReason('short')).toBe('short');
  });
});
