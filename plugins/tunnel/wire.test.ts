import { describe, expect, it } from 'vitest';
import { Backoff } from './agent/backoff.ts';
import { DATA_HEADER, MAX_CHUNK, decodeData, encodeData, parseAgentFrame, parseServerFrame, slices } from './wire.ts';

describe('tunnel wire format', () => {
  it('body frames: a 5-byte header (kind 1, stream id big-endian) and the payload', () => {
    const frame = encodeData(0x01020304, Buffer.from('abc'));
    expect([...frame]).toEqual([1, 1, 2, 3, 4, 97, 98, 99]);
    expect(decodeData(frame)).toEqual({ ok: true, value: { stream: 0x01020304, payload: Buffer.from('abc') } });
    expect(decodeData(Buffer.from([1, 0, 0]))).toMatchObject({ ok: false });
    expect(decodeData(Buffer.from([2, 0, 0, 0, 1]))).toEqual({ ok: false, error: 'unknown binary frame kind 2' });
    expect(decodeData(Buffer.alloc(DATA_HEADER + MAX_CHUNK + 1, 1))).toMatchObject({ ok: false });
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
    expect(parseAgentFrame('[1]')).toEqual({ ok: false, error: 'a frame is a JSON object with a string "type"' });
    expect(parseAgentFrame('nope')).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
  });

  it('parses what the public node may send', () => {
    expect(parseServerFrame('{"type":"req","id":1,"method":"GET","path":"/x","headers":[],"body":false}')).toMatchObject({ ok: true, value: { type: 'req', path: '/x' } });
    expect(parseServerFrame('{"type":"req","id":1,"method":"GET","path":"x","headers":[]}')).toMatchObject({ ok: false });
    expect(parseServerFrame('{"type":"nack","seq":1,"code":"busy","message":"m"}')).toEqual({ ok: true, value: { type: 'nack', seq: 1, code: 'busy', message: 'm' } });
    expect(parseServerFrame('{"type":"nack","seq":1,"code":"odd"}')).toMatchObject({ ok: false });
    expect(parseServerFrame('{"type":"welcome","id":"a","offers":["http","future"],"heartbeatSecs":20,"window":1,"messageWindow":1,"maxMessageBytes":1}')).toEqual({
      ok: true,
      value: { type: 'welcome', v: 1, id: 'a', offers: ['http'], heartbeatSecs: 20, window: 1, messageWindow: 1, maxMessageBytes: 1 },
    });
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the ceiling, jittered between half and all of it, and starts over after reset', () => {
    const low = new Backoff({ firstMs: 100, maxMs: 1000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ firstMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
  });
});
