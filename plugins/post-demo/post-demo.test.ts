import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess, type Running } from '../../test/helpers/in-process.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startInProcess(makeConfigDir({
    vhosts: { x: [{ name: 'localhost', port: '0', mounts: [{ mountpoint: '/formtest', origin: 'callback://protocol-post-demo' }], 'ws-protocols': [{ 'protocol-post-demo': {} }] }] },
  }));
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

describe('protocol-post-demo', () => {
  it('serves its form', async () => {
    const r = await fetch(srv.url('/formtest'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await r.text();
    expect(html).toContain('enctype="multipart/form-data"');
    expect(html).toContain('action="/formtest"');
  });

  it('echoes urlencoded fields HTML-escaped', async () => {
    const r = await fetch(srv.url('/formtest'), { method: 'POST', body: new URLSearchParams({ text: '<script>alert(1)</script>', other: 'a&b' }) });
    const html = await r.text();
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('a&#38;b');
  });

  it('parses multipart with a file', async () => {
    const form = new FormData();
    form.set('text', 'hi "there"');
    form.set('file', new Blob([Buffer.alloc(5000, 7)], { type: 'application/x-test' }), 'data.bin');
    const html = await (await fetch(srv.url('/formtest'), { method: 'POST', body: form })).text();
    expect(html).toContain('hi &#34;there&#34;');
    expect(html).toContain('file data.bin (5000 bytes, application/x-test)');
  });

  it('refuses uploads over 100000 bytes with 413 and other methods with 405', async () => {
    const form = new FormData();
    form.set('file', new Blob([Buffer.alloc(100_001)]), 'big.bin');
    expect((await fetch(srv.url('/formtest'), { method: 'POST', body: form })).status).toBe(413);
    expect((await fetch(srv.url('/formtest'), { method: 'PUT', body: 'x' })).status).toBe(405);
    expect((await fetch(srv.url('/formtest'), { method: 'POST', body: 'x=1', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });
});
