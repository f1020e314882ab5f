import { describe, expect, it } from 'vitest';
import { parseHandlerMap, parsePeers } from './addresses.ts';
import { encodeRequest, LineReader, parseReplyLine } from './handler-wire.ts';

describe('handler framing', () => {
  it('writes a request as one line, id first and payload last, whatever the payload holds', () => {
    const line = encodeRequest(7, { type: 'post', user: 'alice', server: 'a', hops: 2, payload: { text: 'two\nlines, "quoted"', payload: 1 } });
    expect(line).toBe('{"id":7,"type":"post","user":"alice","server":"a","hops":2,"payload":{"text":"two\\nlines, \\"quoted\\"","payload":1}}\n');
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(encodeRequest(1, { type: 't', user: 'u', server: 's', hops: 0, payload: undefined })).toContain('"payload":null}');
  });

  it('reads each command, and tells a malformed reply (its id known) from garbage (no id)', () => {
    expect(parseReplyLine('{"id":3,"command":"sendServers","servers":["b","b"],"clients":["bob"],"payload":1}')).toEqual({
      kind: 'command', id: 3, command: { command: 'sendServers', servers: ['b'], clients: ['bob'], payload: 1 },
    });
    expect(parseReplyLine('{"id":4,"command":"sendHandler","type":"route"}')).toEqual({ kind: 'command', id: 4, command: { command: 'sendHandler', type: 'route', payload: null } });
    expect(parseReplyLine('{"id":5,"command":"sendClients","clients":[]}')).toMatchObject({ kind: 'bad-reply', id: 5 });
    expect(parseReplyLine('{"id":5,"command":"sendClients","clients":["no spaces"]}')).toMatchObject({ kind: 'bad-reply', id: 5 });
    expect(parseReplyLine('{"id":6,"command":"fly"}')).toMatchObject({ kind: 'bad-reply', id: 6 });
    expect(parseReplyLine('{"id":"6","command":"reply"}')).toMatchObject({ kind: 'garbage' });
    expect(parseReplyLine('[1]')).toMatchObject({ kind: 'garbage' });
    expect(parseReplyLine('hello')).toMatchObject({ kind: 'garbage' });
  });

  it('splits lines across chunks, drops \\r and blank lines, and gives up on a line over the limit', () => {
    const lines: string[] = [];
    let tooLong = 0;
    const r = new LineReader(10, (l) => lines.push(l), () => tooLong++);
    r.push(Buffer.from('ab'));
    r.push(Buffer.from('c\r\n\n  \nde'));
    r.push(Buffer.from('f\n'));
    expect(lines).toEqual(['abc', 'def']);
    r.push(Buffer.from('0123456789x'));
    r.push(Buffer.from('\nnever\n'));
    expect(tooLong).toBe(1);
    expect(lines).toEqual(['abc', 'def']);
  });
});

describe('address options', () => {
  it('maps types to unix: and exec: handlers, one entry per ";"', () => {
    const m = parseHandlerMap(' echo = unix:/run/h.sock ;post=exec:sh  ./stamp.sh\n');
    expect(m.get('echo')).toEqual({ kind: 'unix', path: '/run/h.sock' });
    expect(m.get('post')).toEqual({ kind: 'exec', argv: ['sh', './stamp.sh'] });
  });

  it('lists every problem at once', () => {
    expect(() => parseHandlerMap('login=unix:/x; a=tcp:1; a=unix:/y; a=unix:/z; =exec:x; b=exec:no-such-program-anywhere x')).toThrow(
      /type "login" is the broker's own.*type "a": "tcp:1" is not a handler address.*type "a" is given twice.*"=exec:x" is not "type=address".*type "b": .*no executable in PATH named no-such-program-anywhere/,
    );
    expect(() => parsePeers('b=ws://h:1/, a=ws://h:2/, b=ws://h:3/, c=http://h/', 'a')).toThrow(/"a" is this server's own name.*"b" is given twice.*"http:\/\/h\/" is not a ws:/);
    expect(parsePeers('b=ws+unix:///tmp/b.sock:/ c=wss://c.example/', 'a')).toEqual(new Map([['b', 'ws+unix:///tmp/b.sock:/'], ['c', 'wss://c.example/']]));
  });
});
