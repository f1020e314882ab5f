/**
 * @module A CGI script that never reads its stdin while the client trickles a body: answered, no exception escapes, and the server keeps serving.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';

const SCRIPTS: Record<string, string> = {
  // Answers at once and exits, its stdin unread.
  'answer.sh': `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\nanswered'
`,
  // Answers, then stays without reading stdin.
  'answer-stay.sh': `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\nanswered'
exec sleep 30
`,
  // Says nothing, reads nothing: killed by cgi-timeout.
  'silent.sh': `#!/bin/sh
exec sleep 30
`,
};

let srv: Running;
/** Exceptions that reached the process (the bug escaped as one of these). */
const escaped: unknown[] = [];
const onEscape = (err: unknown) => void escaped.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  const dir = makeConfigDir({ files: Object.fromEntries(Object.entries(SCRIPTS).map(([n, s]) => [`cgi/${n}`, s])) });
  for (const n of Object.keys(SCRIPTS)) fs.chmodSync(path.join(dir, 'cgi', n), 0o755);
  const cgi = (mountpoint: string, script: string, timeoutSecs: number) => ({ mountpoint, origin: `cgi://${dir}/cgi/${script}`, 'cgi-timeout': String(timeoutSecs) });
  fs.writeFileSync(
    path.join(dir, 'conf.d/site'),
    JSON.stringify({ vhosts: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [
      // 3 s where the script must answer (a fork and exec of sh within cgi-timeout, for the 200), 1 s where it must time out.
      cgi('/answer', 'answer.sh', 3), cgi('/answer-stay', 'answer-stay.sh', 3), cgi('/silent', 'silent.sh', 1),
    ] }] }),
  );
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv?.stop();
  process.off('uncaughtException', onEscape);
  removeConfigDirs();
});

/**
 * POSTs a body just under the 1 MiB limit in 8 KiB pieces 10 ms apart (enough to fill the
 * script's stdin pipe) and resolves with the status line's code once the
 * connection ends.
 */
function trickle(p: string): Promise<number> {
  return new Promise((resolve) => {
    const total = 1_000_000;
    const piece = Buffer.alloc(8 * 1024, 120);
    const s = net.connect(srv.port(), '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      clearTimeout(bound);
      s.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
    };
    // Liveness bound only.
    const bound = setTimeout(done, 60_000);
    s.on('connect', () => {
      s.write(`POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${total}\r\n\r\n`);
      let sent = 0;
      timer = setInterval(() => {
        if (sent >= total || s.destroyed) return clearInterval(timer);
        const n = Math.min(piece.length, total - sent);
        s.write(piece.subarray(0, n));
        sent += n;
      }, 10);
    });
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      // Complete: a chunked answer's terminating chunk, or the whole of a Content-Length one.
      const end = text.indexOf('\r\n\r\n');
      const len = /content-length: *(\d+)/i.exec(text.slice(0, Math.max(end, 0)));
      if (text.endsWith('\r\n0\r\n\r\n') || (end >= 0 && len && text.length >= end + 4 + Number(len[1]))) done();
    });
    s.on('error', () => undefined);
    s.on('close', done);
  });
}

describe('a CGI script that never reads its stdin', () => {
  for (const [mount, status] of [['/answer', 200], ['/answer-stay', 200], ['/silent', 504]] as const) {
    it(`${mount}: the client trickling a body gets ${status}, and nothing escapes as an uncaught exception`, async () => {
      expect(await trickle(mount)).toBe(status);
      // The server still answers, and only now do we know the callbacks of that exchange have run.
      const r = await fetch(srv.url('/answer'), { method: 'POST', body: 'x' });
      expect(await r.text()).toBe('answered');
      expect(escaped).toEqual([]);
    });
  }
});
