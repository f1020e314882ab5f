import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, removeCerts, type Cert } from './helpers/certs.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { BIN, killAll, runTsws } from './helpers/process.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';
import { rawRequest } from './helpers/raw-http.ts';

let a: Cert;
let b: Cert;
let r: Cert;
let srv: Running;

beforeAll(async () => {
  a = makeCert('a.test');
  b = makeCert('b.test');
  r = makeCert('r.test', 'rsa');
  const site = (name: string, cert: Cert, extra: Record<string, unknown> = {}) => ({
    name, port: '0', interface: '127.0.0.1', 'host-ssl-cert': cert.cert, 'host-ssl-key': cert.key,
    mounts: [{ mountpoint: '/', origin: `file://${name}` }], 'ws-protocols': [{ echo: {} }], ...extra,
  });
  srv = await startInProcess(makeConfigDir({
    files: { 'a.test/index.html': 'site a', 'b.test/index.html': 'site b' },
    vhosts: {
      '1-a': [site('a.test', a, { sts: 'on' })],
      '2-b': [site('b.test', b)],
      '3-redirect': [{ name: 'a.test', port: '0', interface: '::1', 'redirect-http': '1' }],
      '5-rsa': [{ ...site('r.test', r), interface: '127.0.0.3' }],
      '4-missing': [{ name: 'c.test', port: '0', interface: '127.0.0.2', 'host-ssl-cert': '/nonexistent/c.crt', 'host-ssl-key': '/nonexistent/c.key', 'ignore-missing-cert': '1' }],
    },
  }));
});
afterAll(async () => {
  await srv.stop();
  killAll();
  removeConfigDirs();
  removeCerts();
});

const tlsPort = () => srv.server.listeners.find((l) => l.tls)?.port ?? 0;

/** GET / over TLS naming `servername` (SNI; undefined sends none) with a Host header; resolves status, body, certificate CN, headers. */
function get(servername: string | undefined, host: string, ca: string[] = [a.pem, b.pem]): Promise<{ status: number; body: string; cn: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: tlsPort(), path: '/', headers: { host }, ca, ...(servername ? { servername } : { checkServerIdentity: () => undefined }), agent: false }, (res) => {
      const cn = String((res.socket as tls.TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body, cn, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS vhosts', () => {
  it('serves two TLS vhosts on one port, each with its own certificate chosen by SNI', async () => {
    const ra = await get('a.test', 'a.test');
    expect([ra.status, ra.body, ra.cn]).toEqual([200, 'site a', 'a.test']);
    const rb = await get('b.test', 'b.test');
    expect([rb.status, rb.body, rb.cn]).toEqual([200, 'site b', 'b.test']);
  });

  it('sends HSTS on the vhost with sts, not on the other', async () => {
    expect((await get('a.test', 'a.test')).headers['strict-transport-security']).toBe('max-age=15768000; includeSubDomains');
    expect((await get('b.test', 'b.test')).headers['strict-transport-security']).toBeUndefined();
  });

  it('refuses a Host that disagrees with the SNI name with 421', async () => {
    expect((await get('b.test', 'a.test')).status).toBe(421);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_HTTP_MISDIRECTED')).toBe(true);
  });

  it('gives a client naming no known host the first vhost, or 421 when its Host names another', async () => {
    // node:https would derive the SNI name from the Host header: raw TLS sends exactly what the test says.
    const raw = (servername: string | undefined, host: string) =>
      new Promise<{ status: number; cn: string; body: string }>((resolve, reject) => {
        const sock = tls.connect({ host: '127.0.0.1', port: tlsPort(), ca: [a.pem, b.pem], checkServerIdentity: () => undefined, ...(servername ? { servername } : {}) }, () => {
          sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        });
        let text = '';
        sock.on('data', (c) => (text += c)).on('error', reject).on('end', () => {
          resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), cn: String(sock.getPeerCertificate().subject?.CN ?? ''), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
        });
      });
    const none = await raw(undefined, '127.0.0.1');
    expect([none.status, none.body, none.cn]).toEqual([200, 'site a', 'a.test']);
    expect((await raw(undefined, 'b.test')).status).toBe(421);
    expect((await raw('unknown.test', 'b.test')).status).toBe(421);
    expect((await raw(undefined, 'a.test')).status).toBe(200);
  });

  it("offers TLS 1.2 only Mozilla's intermediate ciphers by default: forward secrecy, no AES128-SHA", async () => {
    /** Handshakes with TLS 1.2 and only `ciphers` on offer; resolves the cipher agreed, or the error. */
    const handshake = (ciphers: string) =>
      new Promise<string>((resolve) => {
        // An RSA certificate: AES128-SHA (RSA key exchange, no forward secrecy) would be possible with it.
        const port = srv.server.listeners.find((l) => l.vhosts.includes('r.test'))?.port ?? 0;
        const s = tls.connect({ host: '127.0.0.3', port, servername: 'r.test', ca: [r.pem], ciphers, maxVersion: 'TLSv1.2' }, () => {
          resolve(s.getCipher().standardName);
          s.end();
        });
        s.on('error', (err) => resolve(`refused: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
    expect(await handshake('AES128-SHA')).toMatch(/^refused: /);
    expect(await handshake('AES256-GCM-SHA384')).toMatch(/^refused: /);
    expect(await handshake('ECDHE-RSA-AES128-SHA')).toMatch(/^refused: /);
    expect(await handshake('ECDHE-RSA-AES128-GCM-SHA256')).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  });

  it('picks the certificate by SNI for openssl s_client too', async () => {
    const out = await new Promise<string>((resolve) => {
      const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort()}`, '-servername', 'b.test'], (_e, stdout) => resolve(stdout));
      p.stdin?.end('');
    });
    expect(out).toMatch(/subject=\s*CN\s*=\s*b\.test/);
  });

  it('carries websockets over TLS (wss) by SNI', async () => {
    // ws hands servername on to tls.connect; its typings just do not list it.
    const options = Object.assign({ ca: [b.pem], headers: { host: 'b.test' } }, { servername: 'b.test' });
    const c = await TestClient.open(`wss://127.0.0.1:${tlsPort()}/`, 'echo', options);
    c.send('over tls');
    expect(await c.nextText()).toBe('over tls');
    await c.close();
  });

  it('redirects every request on a redirect-http vhost to https on the TLS port of that name', async () => {
    const port = srv.server.listeners.find((l) => l.address.startsWith('[::1]'))?.port;
    const r = await fetch(`http://[::1]:${port}/path?q=1`, { redirect: 'manual', headers: {} });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe(`https://[::1]:${tlsPort()}/path?q=1`);
  });

  it('puts only a name the vhost serves into the redirect, never any Host header', async () => {
    const port = srv.server.listeners.find((l) => l.address.startsWith('[::1]'))?.port ?? 0;
    const location = async (host: string) => /^location: (.*)$/im.exec((await rawRequest(port, `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, '::1')).head)?.[1];
    expect(await location('evil.example')).toBe(`https://a.test:${tlsPort()}/x`);
    expect(await location(`evil.example:${port}`)).toBe(`https://a.test:${tlsPort()}/x`);
    expect(await location('A.Test')).toBe(`https://a.test:${tlsPort()}/x`);
    expect(await location(`[::1]:${port}`)).toBe(`https://[::1]:${tlsPort()}/x`);
  });

  it('skips a vhost whose certificate is missing when ignore-missing-cert is set, with an error line', () => {
    expect(srv.warnings.find((w) => w.code === 'TSWS_WARN_TLS_VHOST_SKIPPED')?.message).toMatch(/vhost "c\.test" skipped: TLS file \/nonexistent\/c\.crt: no such file/);
    expect(srv.server.listeners.some((l) => l.vhosts.includes('c.test'))).toBe(false);
  });
});

describe('TLS start-up output', () => {
  it('keeps stdout pure JSON: what uWS.js prints natively for SNI names goes to stderr', async () => {
    const k = makeCert('k.test');
    const dir = makeConfigDir({ vhosts: { x: [{ name: 'k.test', port: '0', 'host-ssl-cert': k.cert, 'host-ssl-key': k.key }] } });
    // stdout a real pipe (a FIFO), as under a container runtime or a shell: child_process's own are sockets,
    // which cannot be reopened (docs/reference/cli.md).
    const fifo = path.join(dir, 'stdout.fifo');
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    // The read end first, non-blocking, so opening the write end does not wait for a reader.
    const reader = new net.Socket({ fd: fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK), readable: true, writable: false });
    reader.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((resolve) => reader.on('end', () => resolve()));
    const w = fs.openSync(fifo, 'w');
    const child = spawn(process.execPath, [BIN, '-c', dir], { stdio: ['ignore', w, 'pipe'] });
    fs.closeSync(w);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // A start-up is waited for as long as the other tests wait for one (runTsws's ready: the test's own bound), not
    // eventually()'s 10 s default: beside busy test files on two cores it took 7 to 32 s.
    await eventually(() => Buffer.concat(chunks).toString().includes('"event":"ready"'), 'the server is ready', 30_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await ended;
    const lines = Buffer.concat(chunks).toString().split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    expect(lines.some((l) => (JSON.parse(l) as { event?: string }).event === 'stopped')).toBe(true);
  });
});

describe('TLS start-up failures', () => {
  it.each([
    ['a missing certificate', () => '/nonexistent/x.crt', /cannot use TLS file \/nonexistent\/x\.crt: no such file/],
    ['a file that is not a certificate', () => makeConfigDir({ files: { 'bad.crt': 'hello' } }) + '/bad.crt', /bad\.crt: not a PEM certificate/],
  ])('stops start-up on %s, naming the file', async (_what, certPath, message) => {
    const k = makeCert('k.test');
    const dir = makeConfigDir({ vhosts: { x: [{ name: 'k.test', port: '0', 'host-ssl-cert': certPath(), 'host-ssl-key': k.key }] } });
    const p = runTsws(['-c', dir]);
    expect(await p.exited).toBe(1);
    const line = p.lines.find((l) => l.code === 'TSWS_ERR_TLS_FILE');
    expect(String(line?.msg)).toMatch(message);
  });
});
