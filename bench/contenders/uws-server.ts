/** @module Bench contender: raw uWebSockets.js doing each scenario's work with no framework (the ceiling). */
import { loadBuild } from '../../server/transport/uws/build.ts';
import type { NativeWebSocket, UwsNative } from '../../server/transport/uws/uws-native.ts';
import { announceReady, contenderArgs, firstProtocol, loadStaticFile, mirrorGroup } from './common.ts';

interface UserData {
  readonly protocol: string;
  readonly topic: string;
  counter: number;
}

const args = contenderArgs();
const file = loadStaticFile(args.file);
const counters = new Set<NativeWebSocket<UserData>>();
// The same binary tsws loads on this Node.
const uWS = loadBuild().native as UwsNative;
// With --tls-cert/--tls-key: the same app over TLS, as tsws's TLS vhost is (uWS.js's own SSLApp).
const app = args.tls ? uWS.SSLApp({ cert_file_name: args.tls.cert, key_file_name: args.tls.key }) : uWS.App();

app.ws<UserData>('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024 * 1024,
  idleTimeout: 0,
  // As tsws: large enough that uWS.js never skips a slow subscriber in publish().
  maxBackpressure: 64 * 1024 * 1024,
  upgrade: (res, req, context) => {
    const protocol = firstProtocol(req.getHeader('sec-websocket-protocol'));
    const data: UserData = { protocol, topic: mirrorGroup(req.getQuery() ?? ''), counter: 0 };
    res.upgrade(data, req.getHeader('sec-websocket-key'), protocol, req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    const d = ws.getUserData();
    if (d.protocol === 'lws-mirror-protocol') ws.subscribe(d.topic);
    else if (d.protocol === 'dumb-increment-protocol') counters.add(ws);
  },
  message: (ws, message, isBinary) => {
    const d = ws.getUserData();
    if (d.protocol === 'echo') ws.send(message, isBinary);
    else if (d.protocol === 'lws-mirror-protocol') app.publish(d.topic, message, false);
  },
  close: (ws) => {
    counters.delete(ws);
  },
});

app.get('/*', (res, req) => {
  if (!file.urls.has(req.getUrl())) {
    res.writeStatus('404 Not Found').end('not found');
    return;
  }
  res.writeStatus('200 OK');
  for (const [k, v] of file.headers) res.writeHeader(k, v);
  res.end(file.body);
});

setInterval(() => {
  for (const ws of counters) ws.send(String(ws.getUserData().counter++), false);
}, 50);

app.listen('127.0.0.1', args.port, (token) => {
  if (!token) throw new Error(`raw uWS.js could not listen on ${args.port}`);
  announceReady(uWS.us_socket_local_port(token));
});
