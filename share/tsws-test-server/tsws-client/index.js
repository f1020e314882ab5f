// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
/**
 * @module `tsws/client`: a typed channel client for browsers and Node (ESM, no dependencies): connects,
 * reconnects with backoff and jitter, resubscribes from the last position seen, reports gaps.
 * docs/reference/client.md describes it.
 */
import { ChannelClient } from "./client.js";
export { ChannelClient } from "./client.js";
export { ChannelError } from "./errors.js";
export { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
/** Opens a client at once (state 'connecting'); `M` names the channels and the data each carries. */
export function connect(url, opts) {
    return new ChannelClient(url, opts);
}
