import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

/*
 * jwtFilter from outside: a real tsws process serving test/plugins-auth/jwt-echo.ts on two
 * vhosts (HS256 with a secret; RS256 and ES256 through a JWKS this test serves over real
 * HTTP), clients with ws and fetch, tokens minted with jose.
 */
const PLUGINS = path.resolve(import.meta.dirname, 'plugins-auth');
const SECRET = 'a-test-secret-that-is-32-bytes!!';
const secretKey = new TextEncoder().encode(SECRET);

let tsws: TswsProcess;
let hsPort = 0;
let jwksPort = 0;
let jwksServer: http.Server;
let jwksFetches = 0;
const served: JWK[] = [];

const now = () => Math.floor(Date.now() / 1000);

function hs(claims: Record<string, unknown>, o: { secret?: Uint8Array; exp?: number; aud?: string } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(o.exp ?? now() + 600).setAudience(o.aud ?? 'tsws-test').sign(o.secret ?? secretKey);
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<{ sign: (sub: string) => Promise<string> }> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  served.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
  return { sign: (sub) => new SignJWT({ sub }).setProtectedHeader({ alg, kid }).setExpirationTime(now() + 600).sign(privateKey) };
}

/** What an upgrade refused: its status, WWW-Authenticate and body. */
function refusal(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<{ status: number; challenge: string; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? ''), body }));
    });
  });
}

beforeAll(async () => {
  jwksServer = http.createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
  tsws = runTsws(['-c', makeConfigDir({
    conf: { global: { 'plugin-dir': PLUGINS } },
    vhosts: {
      all: [{
        name: 'hs', port: '0', interface: '127.0.0.1',
        mounts: [{ mountpoint: '/api', origin: 'callback://jwt-echo' }],
        'ws-protocols': [{ 'jwt-echo': { secret: SECRET, audience: 'tsws-test', sources: 'header,protocol,query' } }],
      },
      { name: 'jwks', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'jwt-echo': { 'jwks-url': jwksUrl, algorithms: 'RS256,ES256' } }] },
      // A key set nobody serves: the issuer is down.
      { name: 'down', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'jwt-echo': { 'jwks-url': `http://127.0.0.1:${await freePort()}/jwks.json`, algorithms: 'RS256' } }] }],
    },
  })]);
  const listeners = await tsws.ready;
  hsPort = listeners.find((l) => l.vhosts.includes('hs'))?.port ?? 0;
  jwksPort = listeners.find((l) => l.vhosts.includes('jwks'))?.port ?? 0;
});

afterAll(async () => {
  tsws?.kill('SIGTERM');
  await tsws?.exited;
  killAll();
  jwksServer?.close();
  removeConfigDirs();
});

// Both vhosts listen on one port (same interface, port 0): the Host header tells them apart, "hs" being the first.
const hsUrl = (q = '') => `ws://127.0.0.1:${hsPort}/${q}`;
const jwksUrl = () => `ws://127.0.0.1:${jwksPort}/`;

describe('jwtFilter, HS256', () => {
  it('accepts a valid token from the Authorization header; the session and conn.auth see its subject', async () => {
    const c = await TestClient.open(hsUrl(), 'jwt-echo', { headers: { authorization: `Bearer ${await hs({ sub: 'alice' })}` } });
    expect(await c.nextText()).toBe('hello alice');
    c.send('hi');
    expect(await c.nextText()).toBe('alice:hi');
    await c.close();
  });

  it('takes the token from a Sec-WebSocket-Protocol entry (browsers) and answers the real protocol', async () => {
    const c = await TestClient.open(hsUrl(), ['jwt-echo', `bearer.${await hs({ sub: 'bob' })}`]);
    expect(c.ws.protocol).toBe('jwt-echo');
    expect(await c.nextText()).toBe('hello bob');
    await c.close();
  });

  it('takes the token from ?access_token= where the vhost allows it', async () => {
    const c = await TestClient.open(hsUrl(`?access_token=${await hs({ sub: 'carol' })}`), 'jwt-echo');
    expect(await c.nextText()).toBe('hello carol');
    await c.close();
  });

  it('refuses a missing token with 401 and a bare Bearer challenge', async () => {
    const r = await refusal(hsUrl(), ['jwt-echo']);
    expect(r.status).toBe(401);
    expect(r.challenge).toBe('Bearer realm="tsws"');
  });

  it('refuses a wrong signature, an expired token and a wrong audience with 401 invalid_token, and no stack', async () => {
    const cases = [
      [await hs({ sub: 'alice' }, { secret: crypto.randomBytes(32) }), 'The token signature is invalid'],
      [await hs({ sub: 'alice' }, { exp: now() - 60 }), 'The token expired'],
      [await hs({ sub: 'alice' }, { aud: 'someone-else' }), 'aud'],
    ] as const;
    for (const [token, said] of cases) {
      const r = await refusal(hsUrl(), ['jwt-echo'], { authorization: `Bearer ${token}` });
      expect(r.status).toBe(401);
      expect(r.challenge).toMatch(/^Bearer realm="tsws", error="invalid_token", error_description="[^"]+"$/);
      expect(r.challenge).toContain(said);
      expect(r.body).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });

  it('is the HTTP filter too: 200 with the subject, 401 with a challenge without a token', async () => {
    const ok = await fetch(`http://127.0.0.1:${hsPort}/api`, { headers: { authorization: `Bearer ${await hs({ sub: 'dave' })}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-subject')).toBe('dave');
    const no = await fetch(`http://127.0.0.1:${hsPort}/api`);
    expect(no.status).toBe(401);
    expect(no.headers.get('www-authenticate')).toBe('Bearer realm="tsws"');
  });
});

describe('expiry and refresh over the connection', () => {
  it('closes the connection at exp with 4001 "token expired"', async () => {
    const c = await TestClient.open(hsUrl(), 'jwt-echo', { headers: { authorization: `Bearer ${await hs({ sub: 'erin' }, { exp: now() + 5 })}` } });
    expect(await c.nextText()).toBe('hello erin');
    expect(await c.closed).toEqual({ code: 4001, reason: 'token expired' });
  });

  it('a later token for the same subject, sent as {"ch":"token"}, keeps it open past the first exp; another subject is refused', async () => {
    // Room for the upgrade and two refreshes before exp on a loaded machine; the wait below is a few seconds.
    const exp = now() + 5;
    const c = await TestClient.open(hsUrl(), 'jwt-echo', { headers: { authorization: `Bearer ${await hs({ sub: 'frank' }, { exp })}` } });
    expect(await c.nextText()).toBe('hello frank');
    c.send(JSON.stringify({ ch: 'token', token: await hs({ sub: 'mallory' }, { exp: now() + 600 }) }));
    expect(await c.nextText()).toBe('refresh:the token names another subject');
    c.send(JSON.stringify({ ch: 'token', token: await hs({ sub: 'frank' }, { exp: now() + 600 }) }));
    expect(await c.nextText()).toBe('refresh:ok');
    // Wait until the first token has expired (plus a margin), then prove the connection still serves.
    while (Date.now() < (exp + 1) * 1000) await new Promise((r) => setTimeout(r, 250));
    c.send('still here');
    expect(await c.nextText()).toBe('frank:still here');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await c.close();
  });
});

describe('jwtFilter through a JWKS URL', () => {
  it('verifies RS256 and ES256 tokens against the served key set, and picks up a new kid (rotation)', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const ec = await keyPair('ES256', 'ec-1');
    for (const [sign, sub] of [[rsa.sign, 'rs-user'], [ec.sign, 'es-user']] as const) {
      const c = await TestClient.open(jwksUrl(), 'jwt-echo', { headers: { host: 'jwks', authorization: `Bearer ${await sign(sub)}` } });
      expect(await c.nextText()).toBe(`hello ${sub}`);
      await c.close();
    }
    const fetchesBefore = jwksFetches;
    // Rotation: the issuer publishes a new key; a token naming it makes the filter fetch the set again.
    const rotated = await keyPair('RS256', 'rsa-2');
    const c = await TestClient.open(jwksUrl(), 'jwt-echo', { headers: { host: 'jwks', authorization: `Bearer ${await rotated.sign('rotated-user')}` } });
    expect(await c.nextText()).toBe('hello rotated-user');
    expect(jwksFetches).toBeGreaterThan(fetchesBefore);
    await c.close();
    // A kid the issuer never published: refused, after one more look at the set.
    const { privateKey } = await generateKeyPair('RS256');
    const stranger = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'nobody' }).setExpirationTime(now() + 600).sign(privateKey);
    const r = await refusal(jwksUrl(), ['jwt-echo'], { host: 'jwks', authorization: `Bearer ${stranger}` });
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('No key of the issuer matches the token');
  });

  it('an unreachable key set: 401 for the client, and a coded warning for the operator', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const t = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime(now() + 600).sign(privateKey);
    const r = await refusal(jwksUrl(), ['jwt-echo'], { host: 'down', authorization: `Bearer ${t}` });
    expect(r.status).toBe(401);
    expect(r.challenge).toContain('error="invalid_token"');
    await tsws.waitFor((l) => l.code === 'TSWS_WARN_JWT_KEYS_UNREACHABLE');
  });
});
