import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from 'tsws/testing';

// This project's own conf, conf.d/ and plugins/, served in the test's process on free ports.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ configDir: path.resolve(import.meta.dirname, '../..') });
});
afterAll(() => server?.stop());

it('answers each text message with a greeting that contains it', async () => {
  const client = await server.connect('hello');
  client.send('world');
  expect(await client.nextText()).toBe('hello, world');
  client.send('again');
  expect(await client.nextText()).toContain('again');
  await client.close();
});

it('closes a binary message with 1003', async () => {
  const client = await server.connect('hello');
  client.send(Buffer.from([1, 2, 3]));
  expect((await client.closed).code).toBe(1003);
});

it('answers the health check', async () => {
  expect((await server.request('/healthz')).status).toBe(200);
});
