import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawHead, rawRequest } from './helpers/raw-http.ts';

/** 512 blocks of 64 KiB: far more than socket buffers and the pipe can hold, so a stalled client must stall the script. */
const BLOCKS = 512;
const BLOCK = 65536;
const BIG_TIMEOUT_S = 5;

const SCRIPTS: Record<string, string> = {
  'env.sh': `#!/bin/sh
printf 'Content-Type: text/plain\\r\\nX-Script: env\\r\\n\\r\\n'
env
`,
  'echo-body.sh': `#!/bin/sh
printf 'Content-Type: application/octet-stream\\n\\n'
head -c "$CONTENT_LENGTH"
`,
  'status.sh': `#!/bin/sh
printf 'Status: 404 Not Here\\nContent-Type: text/plain\\nX-Extra: yes\\n\\nnot here'
`,
  'location.sh': `#!/bin/sh
printf 'Location: https://example.com/elsewhere\\n\\n'
`,
  // One fork to make the block, then shell builtins only: no fork per block, so a loaded machine slows it less.
  'big.sh': `#!/bin/sh
if [ -n "$WITH_LENGTH" ]; then printf 'Content-Length: ${BLOCKS * BLOCK}\\n'; fi
printf 'Content-Type: application/octet-stream\\n\\n'
block=$(head -c ${BLOCK} /dev/zero | tr '\\0' z)
i=0
while [ $i -lt ${BLOCKS} ]; do
  printf '%s' "$block"
  i=$((i+1))
  echo $i > "$PROGRESS"
done
`,
  'ticks.sh': `#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
i=0
while [ $i -lt 20 ]; do echo tick; sleep 0.25; i=$((i+1)); done
`,
  'stderr.sh': `#!/bin/sh
echo "something odd happened" >&2
printf 'Content-Type: text/plain\\n\\nfine'
`,
  'sleep.sh': `#!/bin/sh
echo $$ > "$PIDS/script"
sleep 60 &
echo $! > "$PIDS/child"
wait
`,
  'partial.sh': `#!/bin/sh
printf 'Content-Type: text/plain\\n\\npartial'
sleep 60
`,
  'forever.sh': `#!/bin/sh
echo $$ > "$PIDS/forever"
printf 'Content-Type: application/octet-stream\n\n'
while true; do head -c 65536 /dev/zero; done
`,
  'garbage.sh': `#!/bin/sh
printf 'this is not a header\\n\\nbody'
`,
};

let srv: Running;
let dir: string;
const SECRET = 'server-side-secret-value';

beforeAll(async () => {
  dir = makeConfigDir({ files: Object.fromEntries(Object.entries(SCRIPTS).map(([n, s]) => [`cgi/${n}`, s])) });
  for (const n of Object.keys(SCRIPTS)) fs.chmodSync(path.join(dir, 'cgi', n), 0o755);
  fs.writeFileSync(path.join(dir, 'cgi/not-exec.sh'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
  fs.mkdirSync(path.join(dir, 'pids'));
  const cgi = (mountpoint: string, script: string, extra: Record<string, unknown> = {}) => ({ mountpoint, origin: `cgi://${dir}/cgi/${script}`, ...extra });
  fs.writeFileSync(
    path.join(dir, 'conf.d/site'),
    JSON.stringify({
      vhosts: [{
        name: 'localhost',
        port: '0',
        mounts: [
          cgi('/env', 'env.sh', { 'cgi-env': [{ EXTRA_ONE: 'one' }, { EXTRA_TWO: 'two' }] }),
          cgi('/echo', 'echo-body.sh'),
          cgi('/status', 'status.sh'),
          cgi('/location', 'location.sh'),
          // The client holds these back for longer than cgi-timeout, which must not count against the script.
          // The default 5 s, not 1: after the client resumes, the script must keep writing on a loaded CI machine.
          cgi('/big', 'big.sh', { 'cgi-timeout': String(BIG_TIMEOUT_S), 'cgi-env': [{ PROGRESS: `${dir}/progress-chunked` }] }),
          cgi('/big-length', 'big.sh', { 'cgi-timeout': String(BIG_TIMEOUT_S), 'cgi-env': [{ PROGRESS: `${dir}/progress-length`, WITH_LENGTH: '1' }] }),
          // 2 s, not 1: each tick forks sleep, which a loaded machine may take most of a second to run.
          cgi('/ticks', 'ticks.sh', { 'cgi-timeout': '2' }),
          cgi('/stderr', 'stderr.sh'),
          cgi('/sleep', 'sleep.sh', { 'cgi-timeout': '1', 'cgi-env': [{ PIDS: `${dir}/pids` }] }),
          // 3 s, not 1: the script's first output (a fork and exec of sh) must come within it for the 200.
          cgi('/partial', 'partial.sh', { 'cgi-timeout': '3' }),
          cgi('/forever', 'forever.sh', { 'cgi-env': [{ PIDS: `${dir}/pids` }] }),
          cgi('/garbage', 'garbage.sh'),
          cgi('/missing', 'no-such-script.sh'),
          cgi('/not-exec', 'not-exec.sh'),
        ],
      }],
    }),
  );
  process.env.TSWS_TEST_SECRET = SECRET;
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

function envOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

const codes = () => srv.logs.map((l) => l.code).filter((c): c is string => typeof c === 'string');

/** Resolves once `pred` holds, polling (for effects outside this process: files, processes). */
async function until(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function progress(file: string): number {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** A process is gone when it no longer exists or is a zombie waiting for a reaper. */
function processGone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('cgi:// mounts', () => {
  it('gives the script every CGI/1.1 meta-variable, HTTP_* headers and cgi-env, nothing of the server environment', async () => {
    const r = await fetch(srv.url('/env/some/path%20info?a=1&b=two'), {
      method: 'POST',
      headers: { 'content-type': 'text/x-test', 'x-custom-thing': 'custom', proxy: 'http://evil.example:3128', authorization: 'Bearer t' },
      body: 'hello',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-script')).toBe('env');
    expect(r.headers.get('content-type')).toBe('text/plain');
    const env = envOf(await r.text());
    expect(env.get('GATEWAY_INTERFACE')).toBe('CGI/1.1');
    expect(env.get('SERVER_SOFTWARE')).toBe('tsws');
    expect(env.get('SERVER_NAME')).toBe('127.0.0.1');
    expect(env.get('SERVER_PORT')).toBe(String(srv.port()));
    expect(env.get('SERVER_PROTOCOL')).toBe('HTTP/1.1');
    expect(env.get('REQUEST_METHOD')).toBe('POST');
    expect(env.get('SCRIPT_NAME')).toBe('/env');
    expect(env.get('PATH_INFO')).toBe('/some/path info');
    expect(env.get('QUERY_STRING')).toBe('a=1&b=two');
    expect(env.get('REQUEST_URI')).toBe('/env/some/path%20info?a=1&b=two');
    expect(env.get('CONTENT_LENGTH')).toBe('5');
    expect(env.get('CONTENT_TYPE')).toBe('text/x-test');
    expect(env.get('REMOTE_ADDR')).toBe('127.0.0.1');
    expect(env.get('HTTP_X_CUSTOM_THING')).toBe('custom');
    expect(env.get('HTTP_HOST')).toBe(`127.0.0.1:${srv.port()}`);
    expect(env.get('EXTRA_ONE')).toBe('one');
    expect(env.get('EXTRA_TWO')).toBe('two');
    // httpoxy: a client's Proxy header must never become HTTP_PROXY; credentials stay out too.
    expect(env.has('HTTP_PROXY')).toBe(false);
    expect(env.has('HTTP_AUTHORIZATION')).toBe(false);
    expect([...env.values()]).not.toContain(SECRET);
    expect(env.get('PATH')).toBe(process.env.PATH);
  });

  it('sets no CONTENT_LENGTH without a body and an empty QUERY_STRING without a query', async () => {
    const env = envOf(await (await fetch(srv.url('/env'))).text());
    expect(env.get('REQUEST_METHOD')).toBe('GET');
    expect(env.get('QUERY_STRING')).toBe('');
    expect(env.get('PATH_INFO')).toBe('');
    expect(env.has('CONTENT_LENGTH')).toBe(false);
  });

  it('streams a POST body larger than one chunk to stdin and the script\'s output back', async () => {
    const body = crypto.randomBytes(900 * 1024);
    const r = await fetch(srv.url('/echo'), { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(body)).toBe(true);
  });

  it('gathers a chunked upload first so the script still gets CONTENT_LENGTH', async () => {
    const parts = [crypto.randomBytes(70_000), crypto.randomBytes(30_000)];
    const r = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(srv.url('/echo'), { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      for (const p of parts) req.write(p);
      req.end();
    });
    expect(r.equals(Buffer.concat(parts))).toBe(true);
  });

  it('takes Status and other headers from the script', async () => {
    const r = await fetch(srv.url('/status'));
    expect(r.status).toBe(404);
    expect(r.headers.get('x-extra')).toBe('yes');
    expect(await r.text()).toBe('not here');
  });

  it('turns a Location without Status into a 302', async () => {
    const r = await fetch(srv.url('/location'), { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('https://example.com/elsewhere');
  });

  it('answers HEAD with the script\'s status and headers and no body', async () => {
    const r = await rawRequest(srv.port(), 'HEAD /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(404);
    expect(r.head).toMatch(/^X-Extra: yes$/im);
    expect(r.body).toBe('');
  });

  for (const [mount, file] of [['/big', 'progress-chunked'], ['/big-length', 'progress-length']] as const) {
    it(`holds the script back while the client does not read (${mount}), however long, then delivers every byte`, async () => {
      const progressFile = path.join(dir, file);
      let res!: http.IncomingMessage;
      const req = http.get(srv.url(mount));
      await new Promise<void>((resolve) => req.on('response', (r) => {
        res = r;
        r.pause();
        resolve();
      }));
      if (mount === '/big-length') expect(res.headers['content-length']).toBe(String(BLOCKS * BLOCK));
      else expect(res.headers['transfer-encoding']).toBe('chunked');
      // Wait until the script stops making progress: without backpressure it would run to the end.
      let last = -1;
      let stable = 0;
      while (stable < 8) {
        await new Promise((r) => setTimeout(r, 100));
        const now = progress(progressFile);
        stable = now === last ? stable + 1 : 0;
        last = now;
      }
      expect(last).toBeLessThan(BLOCKS);
      // Stay paused past the mount's cgi-timeout: a stalled client is not the script's fault.
      await new Promise((r) => setTimeout(r, BIG_TIMEOUT_S * 1000 + 500));
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.resume();
      // A response cut short (the script killed) closes incomplete, never 'end': said at once, with the server's codes.
      await new Promise<void>((resolve, reject) => {
        res.on('end', resolve);
        res.on('close', () => res.complete || reject(new Error(`response cut after ${bytes} bytes, the script at block ${progress(progressFile)} of ${BLOCKS}; server codes: ${codes().join(', ')}`)));
      });
      expect(bytes).toBe(BLOCKS * BLOCK);
      // The script records its last block after writing it: it may land just after the response ended.
      await until(() => progress(progressFile) === BLOCKS, 'the script to finish');
    });
  }

  it('counts output the script wrote during a stall of the server\'s event loop as progress, not as a timeout', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(srv.url('/ticks'), (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.once('data', () => {
          // The server shares this event loop: block it past cgi-timeout (2 s) while the script keeps writing.
          // Timers run before the loop reads the pipe, so only a look after the read can tell progress from none.
          const end = Date.now() + 3500;
          while (Date.now() < end);
        });
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('close', () => res.complete || reject(new Error(`response cut after ${JSON.stringify(text)}; server codes: ${codes().join(', ')}`)));
      });
      req.on('error', reject);
    });
    expect(body).toBe('tick\n'.repeat(20));
  });

  it('logs what the script writes to stderr', async () => {
    expect(await (await fetch(srv.url('/stderr'))).text()).toBe('fine');
    await until(() => srv.logs.some((l) => l.code === 'TSWS_WARN_CGI_STDERR' && l.msg.includes('something odd happened')), 'the stderr line');
  });

  it('kills a script (and what it started) that makes no progress within cgi-timeout, answering 504', async () => {
    const r = await fetch(srv.url('/sleep'));
    expect(r.status).toBe(504);
    expect(codes()).toContain('TSWS_ERR_CGI_TIMEOUT');
    const script = Number(fs.readFileSync(path.join(dir, 'pids/script'), 'utf8'));
    const child = Number(fs.readFileSync(path.join(dir, 'pids/child'), 'utf8'));
    await until(() => processGone(script) && processGone(child), 'the script and its child to be killed');
  });

  it('cuts the connection when the timeout strikes after the response began', async () => {
    const r = await fetch(srv.url('/partial'));
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
  });

  it('kills the script when the client disconnects mid-response, and keeps serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(srv.url('/forever'), (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    const pid = Number(fs.readFileSync(path.join(dir, 'pids/forever'), 'utf8'));
    await until(() => processGone(pid), 'the script to be killed');
    expect((await fetch(srv.url('/status'))).status).toBe(404);
  });

  it('answers 500 for a missing script, a non-executable one and malformed output, and keeps serving', async () => {
    const missing = await fetch(srv.url('/missing'));
    expect(missing.status).toBe(500);
    const notExec = await fetch(srv.url('/not-exec'));
    expect(notExec.status).toBe(500);
    const scriptErrors = srv.logs.filter((l) => l.code === 'TSWS_ERR_CGI_SCRIPT').map((l) => l.msg);
    expect(scriptErrors.some((m) => m.includes('no-such-script.sh') && m.includes('does not exist'))).toBe(true);
    expect(scriptErrors.some((m) => m.includes('not-exec.sh') && m.includes('is not executable'))).toBe(true);
    const garbage = await fetch(srv.url('/garbage'));
    expect(garbage.status).toBe(500);
    expect(codes()).toContain('TSWS_ERR_CGI_BAD_RESPONSE');
    // With an upload pending, the answer closes the connection instead of reading a body nobody wants.
    const withBody = await rawRequest(srv.port(), 'POST /missing HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500000\r\n\r\n');
    expect(withBody.status).toBe(500);
    expect(withBody.head).toMatch(/^Connection: close$/im);
    expect((await fetch(srv.url('/status'))).status).toBe(404);
  });

  it('refuses a body over the limit with 413 and conflicting lengths with 400, without running the script', async () => {
    const big = await rawHead(srv.port(), 'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\n');
    expect(big.status).toBe(413);
    expect(big.head).toMatch(/^Connection: close$/im);
    expect(codes()).toContain('TSWS_ERR_HTTP_BODY_TOO_LARGE');
    const chunkedBig = await new Promise<number>((resolve, reject) => {
      const req = http.request(srv.url('/echo'), { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const block = Buffer.alloc(256 * 1024, 1);
      for (let i = 0; i < 5; i++) req.write(block);
      req.end();
    });
    expect(chunkedBig).toBe(413);
    const conflicting = await rawRequest(srv.port(), 'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd');
    expect(conflicting.status).toBe(400);
    expect(codes()).toContain('TSWS_ERR_HTTP_BAD_BODY_HEADERS');
    expect((await fetch(srv.url('/status'))).status).toBe(404);
  });
});
