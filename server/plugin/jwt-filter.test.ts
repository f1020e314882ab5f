/** @module jwtFilter's own checks: configuration mistakes are coded errors when it is made, and tokens are found where the options say. */
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { isTswsError } from '../base/errors.ts';
import { RequestSnapshot } from '../session/peer-request.ts';
import { jwtFilter, type JwtFilterOptions } from './jwt-filter.ts';

const SECRET = 'x'.repeat(32);
const codeOf = (o: JwtFilterOptions): string => {
  try {
    jwtFilter(o);
    return 'made';
  } catch (err) {
    return isTswsError(err) ? err.code : String(err);
  }
};
const request = (headers: Record<string, string>, query = '') => new RequestSnapshot('GET', '/', query, headers, '127.0.0.1');
const token = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));

describe('jwtFilter', () => {
  it('refuses configuration mistakes with coded errors when made', () => {
    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(codeOf({ algorithms: ['HS256'] })).toBe('TSWS_ERR_JWT_NO_KEY');
    expect(codeOf({ secret: SECRET, jwksUrl: 'https://x/', algorithms: ['HS256'] })).toBe('TSWS_ERR_JWT_NO_KEY');
    expect(codeOf({ secret: SECRET, algorithms: ['RS256'] })).toBe('TSWS_ERR_JWT_ALGORITHM');
    expect(codeOf({ publicKey: pem, algorithms: ['HS256'] })).toBe('TSWS_ERR_JWT_ALGORITHM');
    expect(codeOf({ secret: SECRET, algorithms: ['XS999'] })).toBe('TSWS_ERR_JWT_ALGORITHM');
    expect(codeOf({ secret: 'short', algorithms: ['HS256'] })).toBe('TSWS_ERR_JWT_KEY');
    expect(codeOf({ publicKey: 'not a key', algorithms: ['ES256'] })).toBe('TSWS_ERR_JWT_KEY');
    expect(codeOf({ jwksUrl: 'ftp://x/', algorithms: ['RS256'] })).toBe('TSWS_ERR_JWT_OPTION');
    expect(codeOf({ secret: SECRET, algorithms: [] })).toBe('TSWS_ERR_JWT_OPTION');
    expect(codeOf({ secret: SECRET, algorithms: ['HS256'], token: ['cookie' as 'header'] })).toBe('TSWS_ERR_JWT_OPTION');
    expect(codeOf({ publicKey: pem, algorithms: ['ES256'] })).toBe('made');
  });

  it('reads the token only from the sources given, and takes the first found', async () => {
    const t = await token('alice');
    const headerOnly = jwtFilter({ secret: SECRET, algorithms: ['HS256'], token: ['header'] });
    expect(await headerOnly(request({ authorization: `Bearer ${t}` }))).toMatchObject({ accept: true, auth: { subject: 'alice' } });
    expect(await headerOnly(request({}, `access_token=${t}`))).toMatchObject({ refuse: 401 });
    expect(await headerOnly(request({ 'sec-websocket-protocol': `chat, bearer.${t}` }))).toMatchObject({ refuse: 401 });
    const all = jwtFilter({ secret: SECRET, algorithms: ['HS256'], token: ['protocol', 'query'] });
    expect(await all(request({ 'sec-websocket-protocol': `chat, bearer.${t}` }))).toMatchObject({ accept: true });
    expect(await all(request({}, `access_token=${t}`))).toMatchObject({ accept: true });
    expect(await all(request({}, `access_token=${t}x`))).toMatchObject({ refuse: 401 });
  });

  it('a token frame is recognised; any other message is left to the plugin', () => {
    const f = jwtFilter({ secret: SECRET, algorithms: ['HS256'] });
    const conn = { auth: undefined, isOpen: true } as unknown as Parameters<typeof f.tokenFrame>[0];
    expect(f.tokenFrame(conn, Buffer.from('{"ch":"token","token":"x"}'), false)).toBe(true);
    expect(f.tokenFrame(conn, Buffer.from(' { "ch" : "token" }'), false)).toBe(false); // not starting with "{": left alone
    expect(f.tokenFrame(conn, Buffer.from('{"ch":"publish","channel":"a"}'), false)).toBe(false);
    expect(f.tokenFrame(conn, Buffer.from('{"ch":"token","token":"x"}'), true)).toBe(false);
    expect(f.tokenFrame(conn, Buffer.from('hello'), false)).toBe(false);
  });
});
