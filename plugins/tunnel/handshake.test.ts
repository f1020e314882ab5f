import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { handshake, type Terms } from './handshake.ts';
import { encodePath } from './http-routes.ts';
import { TokenBook, loadTokenBook, parseTokens } from './tokens.ts';

const terms: Terms = { heartbeatSecs: 20, window: 262144, messageWindow: 64, maxMessageBytes: 65536, wsMaxMessage: 4194304 };
const { wsMaxMessage, ...v1terms } = terms;
const book = new TokenBook(new Map([['laptop', 'laptop-token']]));
const hello = (o: Record<string, unknown>) => JSON.stringify({ type: 'hello', v: 1, id: 'laptop', token: 'laptop-token', offers: ['http'], ...o });

describe('the handshake decision', () => {
  it('welcomes a known id with its token, echoing the offers it understands and the terms', () => {
    const r = handshake(hello({ offers: ['http', 'messages', 'teleport'] }), book, terms);
    expect(r).toMatchObject({ ok: true, offers: ['http', 'messages'] });
    expect(r.answer).toEqual({ type: 'welcome', v: 1, id: 'laptop', offers: ['http', 'messages'], ...v1terms });
  });

  it('speaks version 2 (websockets) and still version 1: a v1 agent is never offered websockets', () => {
    const v2 = handshake(hello({ v: 2, offers: ['http', 'messages', 'websocket'] }), book, terms);
    expect(v2.answer).toEqual({ type: 'welcome', v: 2, id: 'laptop', offers: ['http', 'messages', 'websocket'], ...v1terms, wsMaxMessage });
    const v1 = handshake(hello({ v: 1, offers: ['http', 'websocket'] }), book, terms);
    expect(v1.answer).toEqual({ type: 'welcome', v: 1, id: 'laptop', offers: ['http'], ...v1terms });
  });

  it('refuses, with the code and HTTP status both transports use', () => {
    const refused = (text: string) => {
      const r = handshake(text, book, terms);
      return r.ok ? undefined : [r.status, r.answer.code];
    };
    expect(refused(hello({ token: 'wrong' }))).toEqual([403, 'bad-credentials']);
    // An unknown id looks exactly like a wrong token: nobody learns which ids exist.
    expect(handshake(hello({ id: 'desktop' }), book, terms).answer).toEqual(handshake(hello({ token: 'x' }), book, terms).answer);
    expect(refused(hello({ v: 3 }))).toEqual([400, 'bad-version']);
    expect(handshake(hello({ v: 3 }), book, terms).answer).toMatchObject({ message: 'this server speaks tunnel wire versions 1 and 2, not 3' });
    expect(refused(hello({ id: 'UPPER' }))).toEqual([400, 'bad-hello']);
    expect(refused(hello({ url: 'http://user:pw@x/' }))).toEqual([400, 'bad-hello']);
    expect(refused(hello({ offers: 'http' }))).toEqual([400, 'bad-hello']);
    expect(refused('{"type":"hello","v":1}')).toEqual([400, 'bad-hello']);
    expect(refused('')).toEqual([400, 'bad-hello']);
  });
});

describe('tokens', () => {
  it('reads "id:token" entries from the option and "id token" lines from a file, refusing bad ids and repeats', () => {
    expect([...parseTokens('a:one, b-2:two', 'opt')]).toEqual([['a', 'one'], ['b-2', 'two']]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-tokens-')), 'tokens');
    fs.writeFileSync(file, '# node tokens\nc   three\nd:four # the laptop\n\n');
    const loaded = loadTokenBook('a:one', file);
    expect([loaded.check('a', 'one'), loaded.check('c', 'three'), loaded.check('d', 'four'), loaded.check('d', 'four ')]).toEqual([true, true, true, false]);
    expect(() => parseTokens('Bad:x', 'opt')).toThrow('opt: node id "Bad" must be');
    expect(() => loadTokenBook('c:x', file)).toThrow(`${file}:2: node id "c" is given twice`);
    expect(() => parseTokens('a', 'opt')).toThrow('opt: "a" is not "id:token"');
    expect(() => loadTokenBook('', '/nonexistent/tokens')).toThrow('cannot read tokens-file /nonexistent/tokens');
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe('paths forwarded to the private node', () => {
  it('are encoded again segment by segment, keeping what a segment may hold', () => {
    expect(encodePath('/a b/ü/x:y@z!$&\'()*+,;=/%')).toBe("/a%20b/%C3%BC/x:y@z!$&'()*+,;=/%25");
    expect(encodePath('/')).toBe('/');
  });
});
