/**
 * @module A test plugin behind jwtFilter (test/auth-jwt.test.ts, test/limits-shared.test.ts): greets with the subject its session saw,
 * echoes "<subject>:<text>", answers a token frame with "refresh:ok" or "refresh:<reason>"; over HTTP answers 200 with X-Subject.
 */
import { definePlugin } from 'tsws/plugin';
import { jwtFilter, type JwtFilter, type TokenSource } from 'tsws/plugin/runtime';

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x !== '');

export default definePlugin({
  apiVersion: 2,
  name: 'jwt-echo',
  protocols: (protocol) => [
    protocol({
      name: 'jwt-echo',
      options: {
        secret: { type: 'string', doc: 'HS secret' },
        'jwks-url': { type: 'string', doc: 'JWKS URL' },
        algorithms: { type: 'string', default: 'HS256', doc: 'comma separated' },
        audience: { type: 'string', doc: 'required aud' },
        sources: { type: 'string', default: 'header,protocol', doc: 'token sources, comma separated' },
      },
      init: (_vhost, o): { auth: JwtFilter } => ({
        auth: jwtFilter({
          ...(o.secret !== undefined ? { secret: o.secret } : {}),
          ...(o['jwks-url'] !== undefined ? { jwksUrl: o['jwks-url'], jwks: { cooldownSecs: 0 } } : {}),
          algorithms: list(o.algorithms),
          ...(o.audience !== undefined ? { audience: o.audience } : {}),
          token: list(o.sources) as TokenSource[],
        }),
      }),
      websocket: {
        filter: (req, vhost) => vhost.state.auth(req, vhost),
        session: (_vhost, req) => ({ subject: req.auth?.subject ?? '-', out: [] as string[] }),
        established(conn) {
          conn.session.out.push(`hello ${conn.session.subject}`);
          conn.requestWritable();
        },
        receive(conn, data, isBinary) {
          const reply = (text: string) => {
            conn.session.out.push(text);
            conn.requestWritable();
          };
          if (conn.vhost.state.auth.tokenFrame(conn, data, isBinary, (r) => reply(r.ok ? 'refresh:ok' : `refresh:${r.reason}`))) return;
          reply(`${conn.auth?.subject ?? '-'}:${data.toString()}`);
        },
        writable(conn) {
          const next = conn.session.out.shift();
          if (next !== undefined) conn.write(next);
          if (conn.session.out.length > 0) conn.requestWritable();
        },
      },
      http: {
        filter: (req, vhost) => vhost.state.auth(req, vhost),
        http: (txn) => txn.requestWritable(),
        httpWritable: (txn) => txn.writeHead(200, { 'x-subject': txn.request.auth?.subject ?? '-' }, { end: true }),
      },
    }),
  ],
});
