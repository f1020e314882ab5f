// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
/**
 * @module tsws/client's errors: a code from tsws's registry (docs/reference/errors.md) and its
 * message, for what the client itself detects and for the server's `error` frames. The texts are
 * written here, not imported, so the browser loads nothing of the server; client/errors.test.ts
 * keeps them equal to the registry's.
 */
/** Codes the client raises itself. */
export const CLIENT_CODES = {
    TSWS_ERR_CHANNEL_NO_WEBSOCKET: () => 'tsws/client: this runtime has no global WebSocket (Node before 22). Pass one: connect(url, { WebSocket }) with WebSocket from the "ws" package.',
    TSWS_ERR_CHANNEL_DISCONNECTED: (p) => `tsws/client: the connection dropped before the server answered a publish to "${p.channel}"; it may or may not have been stored. Publish again if a duplicate is harmless, or read the channel to see.`,
    TSWS_ERR_CHANNEL_CLOSED: (p) => `tsws/client: a publish to "${p.channel}" was given after close(), or was waiting when close() was called. Open a new client with connect().`,
    TSWS_ERR_CHANNEL_SUBSCRIBED_TWICE: (p) => `tsws/client: already subscribed to "${p.channel}" on this client. Unsubscribe the first subscription, or share its onMessage.`,
};
/** A failure the client reports: `code` is one of tsws's registry codes (the server's, from an `error` frame, or the client's own). */
export class ChannelError extends Error {
    code;
    channel;
    constructor(code, message, channel) {
        super(message);
        this.name = 'ChannelError';
        this.code = code;
        this.channel = channel;
    }
}
export function clientError(code, ...params) {
    const make = CLIENT_CODES[code];
    const p = params[0];
    return new ChannelError(code, make(p), p?.channel);
}
