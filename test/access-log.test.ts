import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatAccessLine, logDate } from '../server/vhost/access-log.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess } from './helpers/in-process.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(removeConfigDirs);

describe('access log', () => {
  it("writes lwsws's format: requests with status and bytes, upgrades as 101 with the protocol", async () => {
    const dir = makeConfigDir({ files: { 'www/index.html': 'hello' } });
    const logFile = path.join(dir, 'logs/access.log');
    fs.writeFileSync(path.join(dir, 'conf.d/x'), JSON.stringify({ vhosts: [{ name: 'localhost', port: '0', 'access-log': 'logs/access.log',
      mounts: [{ mountpoint: '/', origin: 'file://www' }], 'ws-protocols': [{ echo: {} }] }] }));
    const srv = await startInProcess(dir);
    await fetch(srv.url('/index.html?x=1'), { headers: { referer: 'http://ref.example/', 'user-agent': 'test "agent"' } });
    await fetch(srv.url('/missing'));
    const c = await TestClient.open(srv.wsUrl('/chat?room=1'), 'echo');
    await c.close();
    await srv.stop();
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
    const date = '\\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\]';
    expect(lines[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${date} "GET /index\\.html\\?x=1 HTTP/1\\.1" 200 5 "http://ref\\.example/" "test \\\\"agent\\\\""$`));
    expect(lines[1]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${date} "GET /missing HTTP/1\\.1" 404 \\d+ "" "[^"]*"$`));
    expect(lines[2]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${date} "GET /chat\\?room=1 \\(echo\\) HTTP/1\\.1" 101 0 "" "[^"]*"$`));
    // Created 0600, as lws does: the lines name every client.
    expect(fs.statSync(logFile).mode & 0o777).toBe(0o600);
  });

  it('formats the date as dd/Mon/YYYY:HH:MM:SS +zzzz and neutralises control characters', () => {
    expect(logDate(Date.UTC(2026, 0, 2, 3, 4, 5))).toMatch(/^\d{2}\/Jan\/2026:\d{2}:\d{2}:05 [+-]\d{4}$/);
    const line = formatAccessLine({ peer: '::1', method: 'GET', uri: '/a\nb', status: 200, bytes: 1, referer: '', userAgent: 'x\ry' });
    expect(line.split('\n').length).toBe(2);
    expect(line).toContain('/a?b');
  });
});
