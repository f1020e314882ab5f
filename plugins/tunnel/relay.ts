/** @module Messages between nodes: who may receive what, and sending to a node by the transport its reference names. */
import type { Logger } from 'pino';
import type { Delivery, NodeDirectory, NodeRef } from './node-ref.ts';
import type { TokenBook } from './tokens.ts';
import { frameText } from './wire.ts';

/** How long a node reached over HTTP has to take a message. */
const HTTP_DELIVERY_TIMEOUT_MS = 10_000;

export interface RelayContext {
  readonly directory: NodeDirectory;
  readonly tokens: TokenBook;
  readonly maxMessageBytes: number;
  readonly log: Logger;
}

/** A message as the recipient sees it: `from` is the sender's authenticated id, never what the sender claimed. */
export interface Relayed {
  readonly from: string;
  readonly to: string;
  readonly body: unknown;
}

const nack = (code: Extract<Delivery, { ok: false }>['code'], message: string): Delivery => ({ ok: false, code, message });

/**
 * Relays `body` from node `from` (already authenticated by its tunnel or its
 * token) to node `to`. `done` runs exactly once: when the message was written
 * to the recipient's tunnel or accepted by its HTTP address, or with why not.
 * The sender hears it as an ack or nack; a message is never retried here, so
 * it arrives at most once.
 */
export function relay(ctx: RelayContext, msg: Relayed, done: (d: Delivery) => void): void {
  const size = Buffer.byteLength(JSON.stringify(msg.body) ?? '');
  if (size > ctx.maxMessageBytes) return done(nack('too-big', `the body is ${size} bytes; the limit is ${ctx.maxMessageBytes}`));
  const entry = ctx.directory.get(msg.to);
  if (!entry) {
    return done(ctx.tokens.has(msg.to) ? nack('not-connected', `node ${msg.to} is not connected`) : nack('unknown-node', `no node ${msg.to} here`));
  }
  if (!entry.offers.includes('messages')) return done(nack('not-accepted', `node ${msg.to} does not take messages`));
  sendToNode(ctx, entry.ref, msg, done);
}

/** Picks the transport from the reference: the compiler checks that every kind is handled. */
export function sendToNode(ctx: RelayContext, ref: NodeRef, msg: Relayed, done: (d: Delivery) => void): void {
  switch (ref.kind) {
    case 'tunnel': {
      const end = ctx.directory.tunnel(ref);
      if (!end) return done(nack('not-connected', `node ${msg.to}'s tunnel closed`));
      return end.deliver(frameText({ type: 'msg', from: msg.from, body: msg.body }), done);
    }
    case 'http':
      void postMessage(ref.url, ctx.tokens.tokenOf(msg.to) ?? '', msg).then(done, (err: unknown) => {
        ctx.log.warn({ err, to: msg.to }, 'tunnel: message delivery over HTTP failed');
        done(nack('delivery-failed', `node ${msg.to} did not take the message: ${(err as Error).message}`));
      });
      return;
    default: {
      const unreachable: never = ref;
      return unreachable;
    }
  }
}

/**
 * A node registered over HTTP takes messages as a POST of
 * `{"type":"msg","from","to","body"}` to its URL, with its own token as a
 * bearer token: only it and this server know that token, so the node can
 * tell the message came through the server it handshook with.
 */
async function postMessage(url: string, token: string, msg: Relayed): Promise<Delivery> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ type: 'msg', from: msg.from, to: msg.to, body: msg.body }),
    signal: AbortSignal.timeout(HTTP_DELIVERY_TIMEOUT_MS),
    redirect: 'error',
  });
  // Drain the body so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  return res.ok ? { ok: true } : nack('delivery-failed', `node ${msg.to} answered ${res.status}`);
}
