/** @module The environment of a CGI script: RFC 3875 meta-variables, HTTP_* request headers, then the mount's cgi-env. */
import type { Pairs } from '../../config/model.ts';

/** Everything the meta-variables are made from, copied out of the request. */
export interface CgiRequest {
  readonly method: string;
  /** The part of the decoded, normalised path below the mountpoint: "" or "/...". */
  readonly pathInfo: string;
  /** The mountpoint: the script's own URL path ("" for "/"). */
  readonly scriptName: string;
  readonly query: string;
  /** The request target as received, for REQUEST_URI. */
  readonly uri: string;
  readonly peer: string;
  /** Request headers as received (lower-case names), repeats included. */
  readonly headers: Pairs;
  readonly serverName: string;
  readonly serverPort: number;
  readonly tls: boolean;
  readonly serverSoftware: string;
  /** Set when the request carries a body: its length. */
  readonly contentLength: number | undefined;
  /** The user accepted by the mount's basic-auth. */
  readonly user: string | undefined;
}

/**
 * Headers that do not become HTTP_* variables: the body's own headers have
 * CONTENT_LENGTH/CONTENT_TYPE; credentials are not handed to scripts (RFC
 * 3875 4.1.18); and "Proxy" would become HTTP_PROXY, which many HTTP
 * libraries read as their outgoing proxy: a client could send the script's
 * own requests through a server of its choosing ("httpoxy", CVE-2016-5385).
 */
const NOT_PASSED = new Set(['content-length', 'content-type', 'authorization', 'proxy-authorization', 'proxy']);

/** Only names made of letters, digits and "-": "X_Forwarded_For" must not pose as X-Forwarded-For. */
const PASSABLE = /^[A-Za-z0-9-]+$/;

/**
 * Nothing of the server's own environment reaches the script except PATH,
 * so secrets in it stay in the server; cgi-env adds what scripts need, and
 * wins over everything here (the operator is trusted, the client is not).
 */
export function cgiEnvironment(r: CgiRequest, extra: Pairs, path: string | undefined): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  if (path !== undefined) env.PATH = path;
  env.GATEWAY_INTERFACE = 'CGI/1.1';
  env.SERVER_SOFTWARE = r.serverSoftware;
  env.SERVER_NAME = r.serverName;
  env.SERVER_PORT = String(r.serverPort);
  env.SERVER_PROTOCOL = 'HTTP/1.1';
  env.REQUEST_METHOD = r.method;
  env.REQUEST_SCHEME = r.tls ? 'https' : 'http';
  if (r.tls) env.HTTPS = 'on';
  env.SCRIPT_NAME = r.scriptName;
  env.PATH_INFO = r.pathInfo;
  env.QUERY_STRING = r.query;
  env.REQUEST_URI = r.uri;
  env.REMOTE_ADDR = r.peer;
  env.REMOTE_HOST = r.peer;
  if (r.user !== undefined) {
    env.AUTH_TYPE = 'Basic';
    env.REMOTE_USER = r.user;
  }
  if (r.contentLength !== undefined) env.CONTENT_LENGTH = String(r.contentLength);
  for (const [name, value] of r.headers) {
    if (name === 'content-type') {
      env.CONTENT_TYPE = value;
      continue;
    }
    if (NOT_PASSED.has(name) || !PASSABLE.test(name)) continue;
    const key = `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
    const prev = env[key];
    // Repeated headers are joined as HTTP allows (RFC 9110 5.3); cookies with "; " (RFC 6265 5.4).
    env[key] = prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  for (const [name, value] of extra) env[name] = value;
  return env;
}
