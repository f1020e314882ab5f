/** @module cgi:// mounts: runs a CGI/1.1 script per request (RFC 3875), body to stdin, its stdout streamed back. */
import type { Origin } from '../../config/model.ts';
import { hostName } from '../host-name.ts';
import { basicAuthUser } from '../basic-auth.ts';
import { refuseBody } from '../body-refusal.ts';
import { cgiEnvironment } from './cgi-env.ts';
import { CgiRun, failScript } from './cgi-run.ts';
import { unusableScript } from '../check-mount.ts';
import type { MountRequest } from '../mount-request.ts';
import { DEFAULT_BODY_LIMIT, RequestBody, checkBodyLimit, unreadBody } from '../request-body.ts';

type CgiOrigin = Extract<Origin, { kind: 'cgi' }>;

export function serveCgiMount(m: MountRequest<CgiOrigin>): void {
  const { ex, req, mount, deps } = m;
  const script = mount.origin.script;
  const check = checkBodyLimit(m.framing, DEFAULT_BODY_LIMIT);
  if (!check.ok) return refuseBody(ex, check, DEFAULT_BODY_LIMIT, deps.log, unreadBody(ex.res, m.framing));
  // Checked per request: the script may come, go or lose its x bit while the server runs.
  const unusable = unusableScript(script);
  if (unusable) return failScript(ex, script, unusable, deps.log, undefined, unreadBody(ex.res, check));

  // Everything from `req` is read here: it is gone once this function returns.
  const headers: [string, string][] = [];
  req.forEach((k, v) => void headers.push([k, v]));
  const host = req.getHeader('host');
  const user = mount.basicAuth !== undefined ? basicAuthUser(req.getHeader('authorization')) : undefined;
  const body = new RequestBody(ex.res, DEFAULT_BODY_LIMIT, { stallMs: m.deps.bodyStallMs, clock: m.deps.clock });
  ex.holdBody(body);

  const run = new CgiRun(ex, script, mount.cgiTimeout, deps.log, mount.cgiChdir);
  ex.watchAbort(() => {
    run.kill();
    body.detach();
  });
  const start = (contentLength: number | undefined, buffered?: Buffer) => {
    const env = cgiEnvironment(
      {
        method: ex.method,
        pathInfo: m.rest,
        scriptName: mount.mountpoint === '/' ? '' : mount.mountpoint,
        query: m.query,
        uri: ex.uri,
        peer: ex.peer,
        headers,
        serverName: (host && hostName(host)) || ex.vhost.name,
        serverPort: deps.listener.port,
        tls: deps.listener.tls,
        serverSoftware: deps.serverString,
        contentLength,
        user,
      },
      mount.cgiEnv,
      process.env.PATH,
    );
    run.start(env, buffered === undefined ? body : buffered);
  };

  if (!check.chunked) return start(check.length);
  // CONTENT_LENGTH must be in the environment before the script starts
  // (RFC 3875 4.1.2), so a chunked body is gathered first; the body limit
  // bounds what that can cost.
  const chunks: Buffer[] = [];
  body.consume({
    chunk: (c) => void chunks.push(c),
    end: () => {
      const all = Buffer.concat(chunks);
      start(all.length, all);
    },
    tooLarge: (received) => refuseBody(ex, { ok: false, status: 413, detail: `the body passed ${received} bytes; the limit here is ${body.limit}` }, body.limit, deps.log, body),
  });
}
