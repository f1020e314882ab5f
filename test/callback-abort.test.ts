import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';

/**
 * txn.abort(): a proxy whose upstream dies mid-body must cut the client's
 * connection, from its own callbacks or from another connection's event.
 */
const PLUGIN = `
export default { apiVersion: 1, protocols: [{
  name: 'cut',
  session: () => ({ step: 0 }),
  callbacks: {
    init: () => ({ closed: [], held: [] }),
    http(txn) {
      const p = txn.request.pathInMount;
      if (p === '/in-http') { txn.abort(); return; }
      txn.requestWritable();
    },
    httpWritable(txn) {
      const p = txn.request.pathInMount, s = txn.session;
      if (s.step === 0) { s.step++; txn.writeHead(200, { 'content-type': 'text/plain' }); txn.requestWritable(); return; }
      if (s.step === 1) {
        s.step++;
        txn.write('partial body\\n');
        if (p === '/in-writable') txn.abort();
        else if (p === '/in-timer') txn.setTimeout(5, () => txn.abort());
        else if (p === '/held') txn.vhost.state.held.push(txn);
        return;
      }
    },
    httpClosed(txn, how) { txn.vhost.state.closed.push(txn.request.pathInMount + ':' + how); },
    receive(conn, data) {
      // another connection's event aborts every held response
      if (String(data) === 'abort') for (const t of conn.vhost.state.held.splice(0)) t.abort();
      if (String(data) === 'closed') { conn.session.reply = JSON.stringify(conn.vhost.state.closed); conn.requestWritable(); }
    },
    writable(conn) { if (conn.session.reply) conn.write(conn.session.reply); },
  },
}] };
`;

let srv: Running;
beforeAll(async () => {
  const dir = makeConfigDir({
    plugins: { 'cut.js': PLUGIN },
    vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/app', origin: 'callback://cut' }], 'ws-protocols': [{ cut: {} }] }] },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

/** Sends one GET and collects everything until the server closes the connection. */
function getUntilClosed(path: string, afterFirstData?: () => void, progress?: (text: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port(), '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    let text = '';
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => {
      const first = text === '';
      text += c;
      if (first) afterFirstData?.();
      progress?.(text);
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(text));
  });
}

async function closedList(): Promise<string[]> {
  const c = await TestClient.open(srv.wsUrl(), 'cut');
  c.send('closed');
  const list = JSON.parse(await c.nextText()) as string[];
  await c.close();
  return list;
}

describe('txn.abort(): cutting a response', () => {
  it('from httpWritable, a timer or http itself: the connection closes without the final chunk, httpClosed says aborted', async () => {
    for (const p of ['/in-writable', '/in-timer']) {
      const text = await getUntilClosed(`/app${p}`);
      expect(text).toMatch(/^HTTP\/1\.1 200/);
      expect(text).toContain('partial body');
      // a chunked body ends with a zero-size chunk: its absence is how the client knows it was cut
      expect(text.endsWith('0\r\n\r\n')).toBe(false);
    }
    expect(await getUntilClosed('/app/in-http')).toBe('');
    const closed = await closedList();
    expect(closed).toEqual(expect.arrayContaining(['/in-writable:aborted', '/in-timer:aborted', '/in-http:aborted']));
  });

  it("from another connection's event (a websocket message)", async () => {
    const ws = await TestClient.open(srv.wsUrl(), 'cut');
    let text = '';
    const done = getUntilClosed('/app/held', () => undefined, (t) => {
      text = t;
    });
    await eventually(() => text.includes('partial body'), 'the held response started');
    ws.send('abort');
    const all = await done;
    expect(all.endsWith('0\r\n\r\n')).toBe(false);
    await ws.close();
    expect(await closedList()).toContain('/held:aborted');
    expect(srv.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
