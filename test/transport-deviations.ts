/**
 * @module Where each uWS.js build we ship deviates from the RFCs in ways JavaScript cannot reach: the conformance suite's it.fails cases.
 *
 * Measured with `npm run transport:candidates` (docs/reference/transport.md
 * has the whole table). A case listed here runs as `it.fails`:
 * the day a build stops deviating, the suite fails and this entry goes.
 */

/** What both v20.5x and v20.6x builds do. */
const SHARED: Readonly<Record<string, string>> = {
  'a data frame inside a fragmented message: close 1002': 'no close at all: the connection stays open',
  'a binary frame inside a fragmented text message is not delivered as one message': 'the text fragment and the binary frame are delivered as one binary message',
  'a 64-bit length with its most significant bit set: close 1002': 'the TCP connection is dropped without a close frame (the client sees 1006)',
  'a close frame with a one-byte payload: close 1002': 'answered with an empty close frame (1005)',
  'an unmasked client frame: close 1002': 'no close at all: the frame is ignored and the connection stays open',
  'a reserved bit with no extension agreed: close 1002': 'the TCP connection is dropped without a close frame (1006)',
  'an unknown opcode: close 1002': 'the TCP connection is dropped without a close frame (1006)',
  'a fragmented control frame: close 1002': 'the TCP connection is dropped without a close frame (1006)',
  'a control frame over 125 bytes: close 1002': 'the TCP connection is dropped without a close frame (1006)',
  'a close code no endpoint may send (999, 1004, 1005, 1006, 1016, 2999): close 1002': 'answered with an empty close frame (1005)',
  'invalid UTF-8 in a text message: close 1007': 'the TCP connection is dropped without a close frame (1006)',
  'invalid UTF-8 in a close reason: close 1007': 'answered with an empty close frame (1005)',
  // uWS's parseClosePayload (src/WebSocketProtocol.h) takes only 1000-1011 and 4000-4999 as valid.
  'a registered close code a peer may send (1012-1014, 3000-3999) is answered with that code':
    'taken as an invalid close payload: answered with an empty close frame, and reported to the server as 1006',
  'an HTTP/1.0 request is answered': '505 HTTP Version Not Supported',
  'no response header names the transport or its version, only the configured server-string': 'every response also carries "uWebSockets: 20", written by uWS.js after the handler',
  'an absolute-form request target is answered': '505 HTTP Version Not Supported',
  'pipelined requests answered after the request callback returns are answered in order':
    'the second request aborts the first while it is pending: the connection closes with no response',
  // Measured on v20.51.0 only (no Node 24 where it was written): the suite tells the day v20.67.0 differs.
  'a message trickled a byte at a time is cut once idleTimeout has passed since it began': 'every byte received restarts idleTimeout, partial frames included: the connection stays open as long as the bytes keep coming',
};

/** Build id (server/transport/uws/build.ts) → case name → what the build does instead. */
export const DEVIATIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'uws-20.67.0': SHARED,
  'uws-20.51.0': {
    ...SHARED,
    'a websocket upgraded later, inside res.cork(), stays open': 'closed right after open (uNetworking/uWebSockets#1929, fixed in v20.6x): tsws never corks an upgrade',
  },
};
