/** @module receiveData: 'copy' hands receive a copy it may keep; 'view' a view of the transport's buffer that reads empty once receive returned, never another message's bytes. */
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../plugin/api.ts';
import { testProtocol, type ProtocolKit } from '../testing/index.ts';

const kits: ProtocolKit<unknown, unknown>[] = [];
afterEach(async () => {
  for (const k of kits.splice(0)) await k.stop();
});

/** Keeps what receive got; at "go" reports, one per writable, what the kept data reads then. */
const keeper = (receiveData: 'copy' | 'view') =>
  definePlugin({
    apiVersion: 2,
    name: `keeper-${receiveData}`,
    protocols: (protocol) => [
      protocol({
        name: 'keeper',
        receiveData,
        websocket: {
          session: () => ({ kept: [] as Buffer[], during: [] as number[] }),
          receive(conn, data) {
            conn.session.during.push(data.length);
            if (data.toString() === 'go') conn.requestWritable();
            else conn.session.kept.push(data);
          },
          writable(conn) {
            const k = conn.session.kept.shift();
            if (k) conn.write(`${k.length}:${k.toString()}`);
            if (conn.session.kept.length > 0) conn.requestWritable();
          },
        },
      }),
    ],
  });

describe('receiveData', () => {
  it("'copy' (the default): what receive kept still holds the message when writable runs", async () => {
    const kit = await testProtocol(keeper('copy'));
    kits.push(kit as ProtocolKit<unknown, unknown>);
    const c = kit.connect();
    c.send(Buffer.from('first'));
    c.send(Buffer.from('second'));
    c.send('go');
    expect(c.texts).toEqual(['5:first', '6:second']);
  });

  it("'view': receive reads the whole message; a view kept past it reads empty (the transport detached it)", async () => {
    const kit = await testProtocol(keeper('view'));
    kits.push(kit as ProtocolKit<unknown, unknown>);
    const c = kit.connect();
    c.send(Buffer.from('first'));
    c.send(Buffer.from('second'));
    c.send('go');
    expect(c.conn.session).toMatchObject({ during: [5, 6, 2] });
    expect(c.texts).toEqual(['0:', '0:']);
  });

  it("'view': the data is a Buffer like any other (Buffer.isBuffer, its methods, subarray a Buffer)", async () => {
    const seen: unknown[] = [];
    const kit = await testProtocol(
      definePlugin({
        apiVersion: 2,
        name: 'view-shape',
        protocols: (protocol) => [
          protocol({
            name: 'shape',
            receiveData: 'view',
            websocket: {
              receive(_conn, data) {
                const sub = data.subarray(1);
                seen.push(Buffer.isBuffer(data), data instanceof Buffer, data.toString('hex'), data.readUInt16BE(0), Buffer.isBuffer(sub), sub.toString(), Buffer.concat([data, data]).length);
              },
            },
          }),
        ],
      }),
    );
    kits.push(kit as ProtocolKit<unknown, unknown>);
    kit.connect().send(Buffer.from('abc'));
    expect(seen).toEqual([true, true, '616263', 0x6162, true, 'bc', 6]);
  });
});
