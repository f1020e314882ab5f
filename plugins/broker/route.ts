/** @module A client's message through its chain of handlers to the one answer its sender gets. */
import type { Hub } from './hub.ts';
import type { ClientId } from './names.ts';
import type { ErrorCode, ServerMessage } from './wire.ts';

export interface Sender {
  readonly user: string;
  readonly connId: number;
}

/**
 * Runs one message: the handler for its type, then whatever the handlers
 * say, and resolves with the answer for the sender (never rejects):
 *
 * - `reply` → `reply` with the handler's payload;
 * - `sendClients` → each named user of this server gets a `message`; the
 *   sender gets `sent` listing who got it and who is not connected here;
 * - `sendServers` → each named server's link takes a `deliver` for the named
 *   users there; once each server reported, the sender gets `sent` listing
 *   the servers it was handed to, the users who got it (user@server), and as
 *   unreachable the servers not linked and the users who did not;
 * - `sendHandler` → the payload goes to the handler of the named type, with
 *   `hops` one more; a chain reaching `max-hops` handlers ends in `hop-limit`;
 * - `error`, or a handler down, slow or answering garbage → `error`.
 *
 * Every error is logged with the sender and its request id.
 */
export async function runMessage(hub: Hub, sender: Sender, id: ClientId, firstType: string, firstPayload: unknown): Promise<ServerMessage> {
  const fail = (code: ErrorCode, message: string, type: string, hops: number): ServerMessage => {
    hub.log.warn({ user: sender.user, conn: sender.connId, id, type, hops, code, reason: message }, `broker: request failed: ${code}`);
    return { type: 'error', id, code, message };
  };
  let type = firstType;
  let payload = firstPayload;
  for (let hops = 0; ; hops++) {
    if (hops >= hub.maxHops) return fail('hop-limit', `the message went through ${hops} handlers (the limit) without reaching anyone; last asked for "${type}"`, type, hops);
    const handler = hub.handlerFor(type);
    if (!handler) {
      return fail('no-handler', hops === 0 ? `no handler for message type "${type}"` : `a handler passed the message on to type "${type}", which has no handler`, type, hops);
    }
    const out = await handler.request({ type, user: sender.user, server: hub.server, hops, payload });
    if (!out.ok) return fail(out.code, out.message, type, hops);
    const c = out.command;
    switch (c.command) {
      case 'reply':
        return { type: 'reply', id, payload: c.payload };
      case 'sendClients': {
        const r = hub.deliverLocal(c.clients, sender.user, hub.server, c.payload);
        return { type: 'sent', id, clients: r.reached, unreachable: r.unreachable };
      }
      case 'sendServers': {
        const r = await hub.sendServers(c.servers, sender.user, c.clients, c.payload);
        return { type: 'sent', id, servers: r.servers, clients: r.clients, unreachable: r.unreachable };
      }
      case 'sendHandler':
        type = c.type;
        payload = c.payload;
        continue;
      case 'error':
        return fail('handler-error', c.message, type, hops);
      default: {
        const unreachable: never = c;
        return unreachable;
      }
    }
  }
}
