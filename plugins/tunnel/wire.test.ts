import { describe, expect, it } from 'vitest';
import { DATA_HEADER, MAX_CHUNK, decodeBinary, encodeData, encodePiece, parseAgentFrame, parseServerFrame, slices } from './wire.ts';

describe('tunnel wire format', () => {
  it('body frames: a 5-byte header (kind 1, stream id big-endian) and the payload', () => {
    const frame = encodeData(0x01020304, Buffer.from('abc'));
    expect([...frame]).toEqual([1, 1, 2, 3, 4, 97, 98, 99]);
    expect(decodeBinary(frame)).toEqual({ ok: true, value: { kind: 'body', stream: 0x01020304, payload: Buffer.from('abc') } });
    expect(decodeBinary(Buffer.from([1, 0, 0]))).toMatchObject({ ok: false });
    expect(decodeBinary(Buffer.from([3, 0, 0, 0, 1, 0]))).toEqual({ ok: false, error: 'unknown binary frame kind 3' });
    expect(decodeBinary(Buffer.alloc(DATA_HEADER + MAX_CHUNK + 1, 1))).toMatchObject({ ok: false });
  });

  it('websocket pieces (v2): kind 2, the stream id, a flags byte (1: last piece, 2: binary), the payload', () => {
    const frame = encodePiece(7, Buffer.from('hi'), true, false);
    expect([...frame]).toEqual([2, 0, 0, 0, 7, 1, 104, 105]);
    expect(decodeBinary(frame)).toEqual({ ok: true, value: { kind: 'ws', stream: 7, payload: Buffer.from('hi'), fin: true, binary: false } });
    expect(decodeBinary(encodePiece(7, Buffer.alloc(0), false, true))).toMatchObject({ ok: true, value: { fin: false, binary: true } });
    expect(decodeBinary(Buffer.from([2, 0, 0, 0, 7]))).toEqual({ ok: false, error: 'binary frame shorter than its header' });
    expect(decodeBinary(Buffer.from([2, 0, 0, 0, 7, 4]))).toEqual({ ok: false, error: 'unknown websocket piece flags 4' });
  });

  it('cuts chunks into payloads of at most MAX_CHUNK without copying', () => {
    const big = Buffer.alloc(2 * MAX_CHUNK + 5, 7);
    const parts = [...slices(big)];
    expect(parts.map((p) => p.length)).toEqual([MAX_CHUNK, MAX_CHUNK, 5]);
    expect(parts[0]?.buffer).toBe(big.buffer);
  });

  it('parses what an agent may send and refuses anything else, saying why', () => {
    expect(parseAgentFrame('{"type":"head","id":3,"status":200,"headers":[["a","b"]]}')).toEqual({ ok: true, value: { type: 'head', id: 3, status: 200, headers: [['a', 'b']] } });
    expect(parseAgentFrame('{"type":"msg","to":"b","seq":0,"body":null}')).toEqual({ ok: true, value: { type: 'msg', to: 'b', seq: 0, body: null } });
    expect(parseAgentFrame('{"type":"head","id":0,"status":200,"headers":[]}')).toEqual({ ok: false, error: '"head" frame: "id" must be a stream id' });
    expect(parseAgentFrame('{"type":"head","id":1,"status":101,"headers":[]}')).toMatchObject({ ok: false });
    expect(parseAgentFrame('{"type":"fail","id":1,"status":500}')).toEqual({ ok: false, error: '"fail" frame: "status" must be 502 or 504' });
    expect(parseAgentFrame('{"type":"msg","to":"b","seq":1}')).toMatchObject({ ok: false });
    expect(parseAgentFrame('{"type":"welcome"}')).toEqual({ ok: false, error: 'unknown frame type "welcome"' });
    expect(parseAgentFrame('{"type":"wsaccept","id":2,"protocol":""}')).toEqual({ ok: true, value: { type: 'wsaccept', id: 2, protocol: '' } });
    expect(parseAgentFrame('{"type":"wsrefuse","id":2,"status":403,"message":"no"}')).toEqual({ ok: true, value: { type: 'wsrefuse', id: 2, status: 403, message: 'no' } });
    expect(parseAgentFrame('{"type":"wsrefuse","id":2,"status":101}')).toMatchObject({ ok: false });
    expect(parseAgentFrame('{"type":"wsclose","id":2,"code":1006}')).toEqual({ ok: true, value: { type: 'wsclose', id: 2, code: 1006, reason: '' } });
    expect(parseAgentFrame('{"type":"wsclose","id":2,"code":999}')).toEqual({ ok: false, error: '"wsclose" frame: needs "id" and "code" (1000-4999)' });
    expect(parseAgentFrame('[1]')).toEqual({ ok: false, error: 'a frame is a JSON object with a string "type"' });
    expect(parseAgentFrame('nope')).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
  });

  it('parses what the public node may send', () => {
    expect(parseServerFrame('{"type":"req","id":1,"method":"GET","path":"/x","headers":[],"body":false}')).toMatchObject({ ok: true, value: { type: 'req', path: '/x' } });
    expect(parseServerFrame('{"type":"req","id":1,"method":"GET","path":"x","headers":[]}')).toMatchObject({ ok: false });
    expect(parseServerFrame('{"type":"nack","seq":1,"code":"busy","message":"m"}')).toEqual({ ok: true, value: { type: 'nack', seq: 1, code: 'busy', message: 'm' } });
    expect(parseServerFrame('{"type":"nack","seq":1,"code":"odd"}')).toMatchObject({ ok: false });
    expect(parseServerFrame('{"type":"wsopen","id":3,"path":"/ws?a=1","headers":[["origin","x"]],"protocols":["chat"]}')).toEqual({
      ok: true,
      value: { type: 'wsopen', id: 3, path: '/ws?a=1', headers: [['origin', 'x']], protocols: ['chat'] },
    });
    expect(parseServerFrame('{"type":"wsopen","id":3,"path":"/","headers":[],"protocols":[1]}')).toMatchObject({ ok: false });
    expect(parseServerFrame('{"type":"welcome","id":"a","offers":["http","future"],"heartbeatSecs":20,"window":1,"messageWindow":1,"maxMessageBytes":1}')).toEqual({
      ok: true,
      value: { type: 'welcome', v: 1, id: 'a', offers: ['http'], heartbeatSecs: 20, window: 1, messageWindow: 1, maxMessageBytes: 1 },
    });
  });
});
