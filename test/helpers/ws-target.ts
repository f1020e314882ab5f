/** @module A private websocket service for the tunnel tests: echo, close codes, refusals, a flood and a sink, and a page that uses them from a browser. */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

export interface WsTarget {
  readonly url: string;
  /** Every upgrade request as the target saw it. */
  readonly upgrades: { url: string; headers: http.IncomingHttpHeaders }[];
  /** How each websocket ended, by path: the code and reason the target saw. */
  readonly closes: { path: string; code: number; reason: string }[];
  /** /flood: messages whose send completed, and whether the target waits for one. */
  readonly flood: { sent: number; waiting: boolean };
  /** /sink: what it received (sizes and hashes), and its socket, to pause and resume. */
  readonly sink: { received: { size: number; sha256: string; isBinary: boolean }[]; socket: Duplex | undefined };
  /** /held: completes a held upgrade. */
  releaseHeld(): void;
  /** /held: resolves once an upgrade is being held. */
  readonly held: Promise<void>;
  close(): Promise<void>;
}

/** The n-th flood message: n repeated, so a receiver can check what it got. */
export const floodMessage = (n: number, size: number): Buffer => Buffer.alloc(size, n % 251);

const PAGE = `<!doctype html><meta charset="utf-8"><title>ws through the tunnel</title>
<script>
window.result = (async () => {
  const ws = new WebSocket(new URL('echo?from=page', location.href).href.replace(/^http/, 'ws'), ['x-none', 'echo-v1']);
  ws.binaryType = 'arraybuffer';
  const got = [];
  const next = () => new Promise((resolve) => (ws.onmessage = (e) => resolve(e.data)));
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('websocket failed')); });
  const out = { protocol: ws.protocol };
  let p = next(); ws.send('héllo through the tunnel'); out.text = await p;
  p = next(); ws.send(new Uint8Array([0, 1, 2, 250, 255])); out.binary = Array.from(new Uint8Array(await p));
  const big = 'x'.repeat(300000);
  p = next(); ws.send(big); out.bigEqual = (await p) === big;
  const closed = new Promise((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  ws.close(4321, 'page done');
  out.close = await closed;
  return out;
})();
</script>`;

export async function startWsTarget(): Promise<WsTarget> {
  const upgrades: WsTarget['upgrades'] = [];
  const closes: WsTarget['closes'] = [];
  const flood = { sent: 0, waiting: false };
  const sink: WsTarget['sink'] = { received: [], socket: undefined };
  let release: () => void = () => undefined;
  let heldNow: () => void = () => undefined;
  const held = new Promise<void>((r) => (heldNow = r));
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  // Upgraded and held sockets are the server's no more: closing must end them itself.
  const sockets = new Set<Duplex>();
  server.on('connection', (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handleProtocols: (protocols) => [...protocols].find((p) => p !== 'x-none') ?? false });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number) => socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    if (url.pathname === '/forbidden') return refuse(403);
    if (url.pathname === '/hang') return; // never answers
    const accept = () => wss.handleUpgrade(req, socket, head, (ws) => serve(ws, url));
    if (url.pathname === '/held') {
      release = accept;
      heldNow();
      return;
    }
    if (!['/echo', '/close', '/flood', '/sink', '/drop'].includes(url.pathname)) return refuse(404);
    accept();
  });
  const serve = (ws: WebSocket, url: URL) => {
    ws.on('close', (code, reason) => closes.push({ path: url.pathname, code, reason: reason.toString() }));
    switch (url.pathname) {
      case '/echo':
        ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
        return;
      case '/close':
        ws.send('closing now');
        ws.close(Number(url.searchParams.get('code') ?? '1000'), url.searchParams.get('reason') ?? '');
        return;
      case '/drop':
        // ws keeps its socket private; the test needs the connection to die without a close frame.
        ws.send('dropping now', () => (ws as unknown as { _socket: Duplex })._socket.destroy());
        return;
      case '/flood': {
        const n = Number(url.searchParams.get('n') ?? '1');
        const size = Number(url.searchParams.get('size') ?? '1024');
        // One message at a time, the next once the last went into the socket: blocked shows as waiting.
        const pump = (i: number) => {
          if (i >= n) return ws.close(1000, 'flood done');
          flood.waiting = true;
          ws.send(floodMessage(i, size), { binary: true }, () => {
            flood.waiting = false;
            flood.sent++;
            pump(i + 1);
          });
        };
        pump(0);
        return;
      }
      case '/sink':
        // Its TCP socket, to stop reading it (a slow reader), which ws does not expose.
        sink.socket = (ws as unknown as { _socket: Duplex })._socket;
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          sink.received.push({ size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), isBinary });
          ws.send(`got ${sink.received.length}`);
        });
        return;
    }
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    closes,
    flood,
    sink,
    held,
    releaseHeld: () => release(),
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        for (const sock of sockets) sock.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
