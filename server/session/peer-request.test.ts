import { describe, expect, it } from 'vitest';
import type { HttpReq } from '../transport/types.ts';
import { forEachPacked, packHeaders } from './packed-headers.ts';
import { RequestSnapshot } from './peer-request.ts';

/** A transport request that is only readable while `live` (as uWS.js's is). */
function fakeReq(headers: [string, string][], url = '/chat', query = 'room=a'): HttpReq & { live: boolean } {
  const req = {
    live: true,
    getHeader: (k: string) => headers.find(([n]) => n === k)?.[1] ?? '',
    getUrl: () => url,
    getMethod: () => 'get',
    getCaseSensitiveMethod: () => 'GET',
    getQuery: () => query,
    forEach: (cb: (k: string, v: string) => void) => {
      if (!req.live) throw new Error('request used after its callback');
      for (const [k, v] of headers) cb(k, v);
    },
  };
  return req;
}

describe('request snapshot', () => {
  const headers: [string, string][] = [
    ['host', 'example.org'],
    ['user-agent', 'probe/1.0'],
    ['cookie', 'a=1'],
    ['cookie', 'b=2'],
    ['x-empty', ''],
  ];

  it('keeps every header after the transport request is gone, repeated ones joined with ", "', () => {
    const req = fakeReq(headers);
    const snap = RequestSnapshot.from(req, '127.0.0.1');
    req.live = false;
    expect(snap.headers).toEqual({ host: 'example.org', 'user-agent': 'probe/1.0', cookie: 'a=1, b=2', 'x-empty': '' });
    expect(snap.headers).toBe(snap.headers);
    expect([snap.method, snap.path, snap.query, snap.peer]).toEqual(['GET', '/chat', 'room=a', '127.0.0.1']);
    expect(snap.queryParam('room')).toBe('a');
  });

  it('header() answers like headers[name], before and after the headers object exists', () => {
    const snap = RequestSnapshot.from(fakeReq(headers), '::1');
    expect([snap.header('cookie'), snap.header('user-agent'), snap.header('x-empty'), snap.header('referer')]).toEqual(['a=1, b=2', 'probe/1.0', '', undefined]);
    void snap.headers;
    expect([snap.header('cookie'), snap.header('referer')]).toEqual(['a=1, b=2', undefined]);
  });

  it("packs an upgrade request's usual names and lines short, and gives every header back as received", () => {
    const upgrade: [string, string][] = [
      ['host', '127.0.0.1:7681'],
      ['upgrade', 'websocket'],
      ['connection', 'Upgrade'],
      ['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['sec-websocket-version', '13'],
      ['sec-websocket-protocol', 'chat'],
      // A usual name with an unusual value, and a name of no table.
      ['upgrade', 'h2c'],
      ['x-trace', 'a\tb'],
      ['cookie', ''],
    ];
    const packed = packHeaders(upgrade.flat());
    expect(packed.length).toBeLessThan(upgrade.flat().join('\n').length - 80);
    const back: [string, string][] = [];
    forEachPacked(packed, (k, v) => back.push([k, v]));
    expect(back).toEqual(upgrade);
    const snap = RequestSnapshot.from(fakeReq(upgrade), '127.0.0.1');
    expect([snap.header('upgrade'), snap.header('connection'), snap.header('sec-websocket-version'), snap.header('cookie')]).toEqual(['websocket, h2c', 'Upgrade', '13', '']);
    expect(snap.headers).toEqual({ ...Object.fromEntries(upgrade), upgrade: 'websocket, h2c' });
    expect(packHeaders([])).toBe('');
  });

  it('a request without headers has an empty headers object', () => {
    expect(RequestSnapshot.from(fakeReq([]), '127.0.0.1').headers).toEqual({});
  });

  it('still accepts a headers object', () => {
    const snap = new RequestSnapshot('POST', '/form', '', { 'content-type': 'text/plain' }, '127.0.0.1');
    expect(snap.headers['content-type']).toBe('text/plain');
    expect(snap.header('content-type')).toBe('text/plain');
  });
});
