import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testProtocol, type TestServer } from 'tsws/testing';
import hello from './hello.ts';

// Unit: the protocol on tsws's own framework with no sockets; every call has run when it returns.
describe('hello', () => {
  it('answers each text message with a greeting that contains it', async () => {
    const kit = await testProtocol(hello, { options: { greeting: 'hi' } });
    const client = kit.connect();
    client.send('world');
    client.send('again');
    expect(client.texts).toEqual(['hi, world', 'hi, again']);
    await kit.stop();
  });

  it('closes a binary message with 1003 and a message over 4096 bytes with 1009', async () => {
    const kit = await testProtocol(hello);
    const binary = kit.connect();
    binary.send(new Uint8Array([1, 2, 3]));
    expect(binary.closed).toEqual({ code: 1003, reason: 'text only', by: 'server' });
    const long = kit.connect();
    long.send('x'.repeat(4097));
    expect(long.closed?.code).toBe(1009);
    await kit.stop();
  });

  it('keeps the answers of a client that stops reading, in order, until it reads again', async () => {
    const kit = await testProtocol(hello);
    const client = kit.connect();
    client.hold();
    client.send('one');
    client.send('two');
    expect(client.texts).toEqual([]);
    client.release();
    expect(client.texts).toEqual(['hello, one', 'hello, two']);
    expect(kit.errors).toEqual([]);
    await kit.stop();
  });
});

// Integration: this project's own conf, conf.d/ and plugins/, served in the test's process on free ports.
describe('this project, served', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ configDir: path.resolve(import.meta.dirname, '../..') });
  });
  afterAll(() => server?.stop());

  it('offers hello as conf.d/localhost enables it', async () => {
    const client = await server.connect('hello');
    client.send('world');
    expect(await client.nextText()).toBe('hello, world');
    await client.close();
  });

  it('answers the health check', async () => {
    expect((await server.request('/healthz')).status).toBe(200);
  });
});
