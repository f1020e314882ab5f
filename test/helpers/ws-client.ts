/** @module The tests' websocket client: tsws/testing's own (server/testing/ws-client.ts), plus what only this repository's tests reach for. */
import type { TestClient } from '../../server/testing/ws-client.ts';

export { TestClient, eventually, upgradeStatus, type Received } from '../../server/testing/ws-client.ts';

/** Stops (and restarts) reading the client's TCP socket, to play a slow reader. */
export function socketOf(c: TestClient): { pause(): void; resume(): void } {
  return (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}
