/** @module What a websocket's transport events are delivered to: a plugin connection, or a proxy bridge. */
import type { SendStatus, WsHandle } from '../transport/types.ts';
import type { Audible } from './liveness.ts';

/** Audible: the silence sweep (liveness.ts) pings it and may terminate it. */
export interface WsSession extends Audible {
  readonly isOpen: boolean;
  /** The socket is open; `sendOutcomes` names its transport's send codes (Transport.sendOutcomes). */
  opened(ws: WsHandle, sendOutcomes: readonly SendStatus[]): void;
  received(message: ArrayBuffer, isBinary: boolean): void;
  drained(): void;
  /** The socket is gone (either side closed it). */
  closedByTransport(code: number, reason: string): void;
  /** Closes with a close frame. */
  close(code?: number, reason?: string): void;
  /** Drops the socket without a close handshake. */
  terminate(): void;
}
