import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { seedConfigDir } from './helpers/seed-config.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

describe("the seed's Comlink v2 deployment, with no --data-dir, started from anywhere", () => {
  it('answers on every mount from the shipped data directory (share/libwebsockets-test-server)', async () => {
    // Somewhere else than the repository: the data directory is tsws's own share/, not the working directory's.
    const elsewhere = makeConfigDir({});
    const p = runTsws(['-c', seedConfigDir(elsewhere)], { cwd: elsewhere });
    const [listener] = await p.ready;
    const base = `http://127.0.0.1:${listener?.port}`;
    const get = async (path: string, init?: RequestInit) => {
      const r = await fetch(`${base}${path}`, init);
      return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
    };

    const home = await get('/');
    expect(home.status).toBe(200);
    expect(home.type).toContain('text/html');
    for (const protocol of ['dumb-increment-protocol', 'example-standalone-protocol', 'lws-mirror-protocol', 'lws-status']) {
      expect((await get('/test.js')).body).toContain(`'${protocol}'`);
    }

    const status = await get('/server-status/');
    expect(status.status).toBe(200);
    expect(status.body).toContain('server-status.js');
    expect((await get('/server-status/server-status.js')).body).toContain("'lws-server-status'");

    const cgi = await get('/testcgi/extra?x=1');
    expect(cgi.status).toBe(200);
    expect(cgi.body).toContain('<h1>lws-cgi-test.sh</h1>');
    expect(cgi.body).toContain('<tr><td>SCRIPT_NAME</td><td>/testcgi</td></tr>');
    expect(cgi.body).toContain('<tr><td>PATH_INFO</td><td>/extra</td></tr>');
    const posted = await get('/testcgi', { method: 'POST', body: 'a=<b>\n', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.body).toContain('POST body: <code>a=&lt;b&gt;</code>');

    expect((await get('/formtest')).body).toContain('multipart/form-data');

    // The protocols the pages speak.
    const sa = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'example-standalone-protocol');
    expect([await sa.nextText(), await sa.nextText(), await sa.nextText()]).toEqual(['0', '1', '2']);
    sa.send('hello world');
    sa.send('closeme\n');
    expect(await sa.closed).toEqual({ code: 1001, reason: 'seeya' });
    const ss = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'lws-server-status');
    expect(JSON.parse(await ss.nextText())).toMatchObject({ vhosts: [{ name: 'localhost' }] });
    await ss.close();

    expect(p.lines.filter((l) => l.code === 'TSWS_WARN_PROTOCOL_NOT_FOUND' && String(l.msg).includes('enables protocol "example-standalone-protocol"'))).toEqual([]);
    p.kill();
    expect(await p.exited).toBe(0);
  });
});
