import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from '../../test/helpers/process.ts';
import { hello, killAgents, rawTunnel, runAgent, startTarget, tunnelConfigDir, type AgentProcess, type Target } from '../../test/helpers/tunnel.ts';

/*
 * What a stranger on the internet can send through the public node, and what a
 * node holding a token can send back: real processes and sockets (tsws on a
 * random port, tsws-tunnel in front of a local HTTP service, a hand-spoken
 * tunnel for the node that misbehaves).
 */
const TOKENS = 'alpha:alpha-secret-token,rogue:rogue-secret-token';

let server: TswsProcess;
let base: string;
let port: number;
let target: Target;
let alpha: AgentProcess;

beforeAll(async () => {
  port = await freePort();
  server = runTsws(['-c', tunnelConfigDir(TOKENS, 30, port)]);
  target = await startTarget();
  await server.ready;
  base = `http://127.0.0.1:${port}`;
  alpha = runAgent(['--server', `ws://127.0.0.1:${port}`, '--id', 'alpha', '--token', 'alpha-secret-token', '--target', target.url]);
  await alpha.waitFor((l) => l.msg === 'tunnel up', 'the tunnel came up');
});

afterAll(async () => {
  killAgents();
  killAll();
  await target.close();
  removeConfigDirs();
});

/** One request written byte for byte (fetch would refuse to send these), answered with its status line. */
function rawRequest(head: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    sock.on('connect', () => sock.write(head));
    sock.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const text = got.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        sock.destroy();
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed without an answer: ${JSON.stringify(got.toString('latin1'))}`)));
  });
}

describe('a stranger cannot take a node off the network', () => {
  it('a request node:http will not send (a DEL in a header, a byte that is not UTF-8 in the query, a method that is not a token) gets 502, and the tunnel stays up', async () => {
    const from = alpha.lines.length;
    // Each is taken by tsws and refused by node:http in the agent: a DEL in a header value, a byte
    // that is not UTF-8 in the query, a method that is not a token.
    const bad = [
      Buffer.from('GET /nodes/alpha/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x7fb\r\nConnection: close\r\n\r\n', 'latin1'),
      Buffer.from('GET /nodes/alpha/y?q=a\xffb HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 'latin1'),
      Buffer.from('G(T /nodes/alpha/z HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 'latin1'),
    ];
    for (const request of bad) expect(await rawRequest(request)).toBe('HTTP/1.1 502 Bad Gateway');
    // The same tunnel still serves: before the fix the agent's callback threw and its tunnel ended for good (1011, no reconnect).
    const res = await fetch(`${base}/nodes/alpha/after`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('GET /after');
    expect(alpha.lines.slice(from).filter((l) => String(l.msg).includes('tunnel down') || l.msg === 'connecting')).toEqual([]);
  });
});

describe('what reaches the private service', () => {
  it('drops Proxy (httpoxy) and the headers a Connection header names, as hop-by-hop', async () => {
    // fetch will not send a Connection header of our choosing: the request is written by hand.
    const head = 'GET /nodes/alpha/hop?n=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, X-Hop-Secret\r\nX-Hop-Secret: for the first hop only\r\nProxy: http://evil.example:8080\r\nX-Kept: yes\r\n\r\n';
    expect(await rawRequest(Buffer.from(head))).toBe('HTTP/1.1 200 OK');
    const seen = target.seen.find((s) => s.url === '/hop?n=1');
    expect(seen?.headers['x-kept']).toBe('yes');
    expect(seen?.headers['x-hop-secret']).toBeUndefined();
    expect(seen?.headers.proxy).toBeUndefined();
  });
});

describe('a node cannot split the public node’s responses', () => {
  it('a response header with CR/LF from a node gets the client 500, and no injected header', async () => {
    const rogue = await rawTunnel(`ws://127.0.0.1:${port}`, hello('rogue', 'rogue-secret-token'));
    expect(rogue.answer.type).toBe('welcome');
    const pending = fetch(`${base}/nodes/rogue/page`);
    const req = JSON.parse((await rogue.client.until((m) => !m.isBinary && m.text.includes('"req"'))).text) as { id: number };
    rogue.client.send(JSON.stringify({ type: 'head', id: req.id, status: 200, headers: [['x-a', 'b\r\nX-Injected: 1'], ['content-type', 'text/plain']] }));
    rogue.client.send(JSON.stringify({ type: 'end', id: req.id }));
    const res = await pending;
    expect(res.headers.get('x-injected')).toBeNull();
    expect(res.status).toBe(500);
    // A header name that is not a token is refused the same way.
    const pending2 = fetch(`${base}/nodes/rogue/page2`);
    const req2 = JSON.parse((await rogue.client.until((m) => !m.isBinary && m.text.includes('"req"') && m.text.includes('page2'))).text) as { id: number };
    rogue.client.send(JSON.stringify({ type: 'head', id: req2.id, status: 200, headers: [['x-b: 1\r\nx-injected', '2']] }));
    rogue.client.send(JSON.stringify({ type: 'end', id: req2.id }));
    const res2 = await pending2;
    expect(res2.headers.get('x-injected')).toBeNull();
    expect(res2.status).toBe(500);
    await rogue.client.close();
  });
});
