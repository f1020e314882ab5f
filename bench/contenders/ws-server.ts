/** @module Bench contender: the ws library for websockets and node:http for the static file, as most Node servers run. */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { announceReady, contenderArgs, firstProtocol, loadStaticFile, mirrorGroup } from './common.ts';

const args = contenderArgs();
const file = loadStaticFile(args.file);
const groups = new Map<string, Set<WebSocket>>();
const counters = new Map<WebSocket, number>();

const server = http.createServer((req, res) => {
  if (!file.urls.has(req.url ?? '')) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, Object.fromEntries(file.headers)).end(file.body);
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, handleProtocols: (protocols) => [...protocols][0] ?? false });

wss.on('connection', (ws, req) => {
  const protocol = firstProtocol(req.headers['sec-websocket-protocol']);
  if (protocol === 'echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (protocol === 'lws-mirror-protocol') {
    const name = mirrorGroup(new URL(req.url ?? '/', 'http://x').search);
    let group = groups.get(name);
    if (!group) groups.set(name, (group = new Set()));
    const members = group;
    members.add(ws);
    ws.on('message', (data) => {
      for (const m of members) m.send(data, { binary: false });
    });
    ws.on('close', () => members.delete(ws));
  } else if (protocol === 'dumb-increment-protocol') {
    counters.set(ws, 0);
    ws.on('close', () => counters.delete(ws));
  }
});

setInterval(() => {
  for (const [ws, n] of counters) {
    ws.send(String(n));
    counters.set(ws, n + 1);
  }
}, 50);

server.listen(args.port, '127.0.0.1', () => {
  const address = server.address();
  announceReady(typeof address === 'object' && address ? address.port : 0);
});
