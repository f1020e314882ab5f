/**
 * @module `tsws/testing`: test a plugin against a real tsws in the test's own process (startTestServer), with a websocket and an HTTP client.
 *
 * This is the integration half. The unit half, driving a protocol's
 * callbacks with no sockets (fake clients, held backpressure, the
 * framework's timers advanced by hand), is built on the fake transport and
 * will be exported from here as well.
 */
export { startTestServer, type LogLine, type TestServer, type TestServerOptions } from './test-server.ts';
export { TestClient, eventually, upgradeStatus, type ClientOptions, type ClientSocket, type Received } from './ws-client.ts';
export { request, type HttpAnswer, type TestRequest } from './http-client.ts';
export type { InlineConfig, Listener, ReloadSummary } from '../embed.ts';
