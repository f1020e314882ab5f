/**
 * @module `tsws/testing`: test a plugin with no sockets (testProtocol: the real framework on a fake transport, time moved by hand), or against a real tsws in the test's own process (startTestServer).
 *
 * The unit half drives a protocol's callbacks through the framework itself:
 * fake clients with a request, messages, held backpressure, the framework's
 * timers advanced by hand, writes, closes and coded errors observed. The
 * integration half serves a config directory or an inline config on free
 * ports and talks to it with a websocket and an HTTP client. Neither loads
 * uWebSockets.js until a real server starts.
 */
export { testProtocol, ProtocolKit, type KitConnectInit } from './protocol-kit.ts';
export type { ProtocolKitOptions, KitOptionValue } from './kit-config.ts';
export { KitClient, type ClientClosed, type KitError } from './kit-client.ts';
export { KitResponse, type KitRequestInit } from './kit-response.ts';
export { ManualClock } from './manual-clock.ts';
export { startTestServer, type LogLine, type TestServer, type TestServerOptions } from './test-server.ts';
export { TestClient, eventually, upgradeStatus, type ClientOptions, type ClientSocket, type Received } from './ws-client.ts';
export { request, type HttpAnswer, type TestRequest } from './http-client.ts';
export type { InlineConfig, Listener, ReloadSummary } from '../app/embed.ts';
