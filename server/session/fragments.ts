/** @module Handing a received message to `receive`: copied out of the transport, whole or, as lws does, in rxBufferSize pieces. */
import type { Conn, Fragment } from '../plugin/api.ts';
import type { RuntimeCallbacks } from '../plugin/runtime-protocol.ts';

/** What every whole message is told: one constant, so the common path allocates nothing for it. */
export const WHOLE: Fragment = Object.freeze({ first: true, final: true, remaining: 0 });

/** The transport neuters a message when its handler returns: the plugin gets a copy (the one copy; pieces are views of it). */
export function copyOut(message: ArrayBuffer): Buffer {
  const data = Buffer.allocUnsafe(message.byteLength);
  data.set(new Uint8Array(message));
  return data;
}

type Receive = NonNullable<RuntimeCallbacks['receive']>;

/**
 * uWS.js hands over whole messages (it reassembles frames itself), so lws's
 * chunking is redone here: views into the one copy of the message, each at
 * most `size` bytes, as lws delivers a frame larger than rx_buffer_size
 * (lws_is_first_fragment, lws_is_final_fragment, lws_remaining_packet_payload).
 * Delivery stops once the plugin closes the connection or a piece throws
 * (the throw propagates to the caller, which closes with 1011); a rejected
 * promise goes to `rejected`.
 */
export function receiveInPieces(conn: Conn, receive: Receive, data: Buffer, isBinary: boolean, size: number, rejected: (err: unknown) => void): void {
  const total = data.length;
  for (let at = 0; at < total && conn.isOpen; at += size) {
    const end = Math.min(at + size, total);
    const fragment: Fragment = { first: at === 0, final: end === total, remaining: total - end };
    const result: unknown = receive(conn, data.subarray(at, end), isBinary, fragment);
    if (result instanceof Promise) result.catch(rejected);
  }
}
