/** @module Handing a received message to `receive`: copied out of the transport, whole or, as lws does, in rxBufferSize pieces. */
import type { Conn, Fragment } from '../plugin/api.ts';
import type { RuntimeCallbacks } from '../plugin/runtime-protocol.ts';
import type { CallbackRunner } from './invoke.ts';

/** What every whole message is told: one constant, so the common path allocates nothing for it. */
export const WHOLE: Fragment = Object.freeze({ first: true, final: true, remaining: 0 });

/** The transport neuters a message when its handler returns: the plugin gets a copy (the one copy; pieces are views of it) unless it asked for a view (receiveData 'view'). */
export function copyOut(message: ArrayBuffer): Buffer {
  const data = Buffer.allocUnsafe(message.byteLength);
  data.set(new Uint8Array(message));
  return data;
}

/**
 * Node's own Buffer class (FastBuffer, a Uint8Array subclass whose
 * prototype is Buffer.prototype), as Buffer's Symbol.species hands it to
 * subarray(). Constructing it directly skips Buffer.from's dispatch, whose
 * type checks call into C++: ~40 % less per view in a micro-benchmark.
 * (A Uint8Array subclass of our own re-parented onto Buffer.prototype was
 * as fast alone but made the message path 2-3x slower in the server: its
 * prototype chain defeated V8's inline caches.)
 */
const NodeBuffer = (Buffer as unknown as { readonly [Symbol.species]: new (ab: ArrayBuffer) => Buffer })[Symbol.species];

/** A Buffer viewing `message` (valid as long as the transport leaves it attached). */
export function viewOf(message: ArrayBuffer): Buffer {
  return new NodeBuffer(message);
}

type Receive = NonNullable<RuntimeCallbacks['receive']>;

/**
 * uWS.js hands over whole messages (it reassembles frames itself), so lws's
 * chunking is redone here: views into the one copy of the message, each at
 * most `size` bytes, as lws delivers a frame larger than rx_buffer_size
 * (lws_is_first_fragment, lws_is_final_fragment, lws_remaining_packet_payload).
 * Each piece goes through the runner; delivery stops once the connection is
 * closing (the plugin closed it, or a piece threw or rejected: 1011).
 */
export function receiveInPieces(runner: CallbackRunner, where: number, conn: Conn, receive: Receive, data: Buffer, isBinary: boolean, size: number): void {
  const total = data.length;
  for (let at = 0; at < total && conn.isOpen; at += size) {
    const end = Math.min(at + size, total);
    const fragment: Fragment = { first: at === 0, final: end === total, remaining: total - end };
    runner.run(where, receive, conn, data.subarray(at, end), isBinary, fragment);
  }
}
