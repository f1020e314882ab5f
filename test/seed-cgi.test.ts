import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { SEED_DIR, seedConfigDir } from './helpers/seed-config.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/** A script in the spirit of lws's own lws-cgi-test.sh, placed where the seed's cgi:// origin points. */
const SCRIPT = `#!/bin/sh
printf 'content-type: text/html\\r\\n\\r\\n'
echo "<html><body><h1>lwstest script stdout</h1>"
echo "lwstest script stderr: REQUEST_METHOD was $REQUEST_METHOD" >&2
echo "<h2>REQUEST_METHOD=$REQUEST_METHOD SCRIPT_NAME=$SCRIPT_NAME PATH_INFO=$PATH_INFO</h2>"
if [ "$REQUEST_METHOD" = "POST" ]; then
  read line
  echo "<p>read=\\"$line\\"</p>"
fi
echo "</body></html>"
`;

describe("the seed's Comlink v2 config, served as written", () => {
  it('runs lws-cgi-test.sh from --data-dir, as the seed config (conf + conf.d/comlink_v2) mounts it at /testcgi', async () => {
    const dataDir = makeConfigDir({ files: { 'libwebsockets-test-server/lws-cgi-test.sh': SCRIPT, 'libwebsockets-test-server/test.html': 'seed home' } });
    fs.chmodSync(path.join(dataDir, 'libwebsockets-test-server/lws-cgi-test.sh'), 0o755);
    const vhost = fs.readFileSync(path.join(SEED_DIR, 'conf.d/comlink_v2'), 'utf8');
    expect(vhost).toContain('"origin": "cgi://_lws_ddir_/libwebsockets-test-server/lws-cgi-test.sh"');
    const confDir = seedConfigDir(dataDir);

    // The packet server's default log-dir (var/lws-packet) is relative to confDir, a fresh one.
    const p = runTsws(['-c', confDir, '--data-dir', dataDir], { cwd: dataDir });
    const [listener] = await p.ready;
    const base = `http://127.0.0.1:${listener?.port}`;

    const get = await fetch(`${base}/testcgi/extra`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/html');
    expect(get.headers.get('server')).toBe('lwsws');
    const page = await get.text();
    expect(page).toContain('<h1>lwstest script stdout</h1>');
    expect(page).toContain('REQUEST_METHOD=GET SCRIPT_NAME=/testcgi PATH_INFO=/extra');

    const post = await fetch(`${base}/testcgi`, { method: 'POST', body: 'hello=world\n', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await post.text()).toContain('read="hello=world"');

    const stderr = await p.waitFor((l) => l.code === 'TSWS_WARN_CGI_STDERR' && String(l.msg).includes('REQUEST_METHOD was POST'));
    expect(String(stderr.msg)).toContain('lws-cgi-test.sh');

    // /formtest: protocol-post-demo
    const form = await fetch(`${base}/formtest`);
    expect(await form.text()).toContain('multipart/form-data');
    const posted = await fetch(`${base}/formtest`, { method: 'POST', body: new URLSearchParams({ text: 'from the seed' }) });
    expect(await posted.text()).toContain('from the seed');

    // /formtest2: the packet server, answering {"id": n}
    const ack = await fetch(`${base}/formtest2`, { method: 'POST', body: '{"sensor": 1}', headers: { 'content-type': 'application/json' } });
    expect(await ack.json()).toEqual({ id: 1 });
    expect(fs.existsSync(path.join(confDir, 'var/lws-packet/localhost/packets.jsonl'))).toBe(true);
    p.kill();
    expect(await p.exited).toBe(0);
  });
});
