/** @module Registry entries of the cgi, proxy and redirect mounts and basic auth, spread into errors.ts's REGISTRY. */
import { error, warning } from './error-entry.ts';

type Where = { where: string };

export const MOUNT_ERRORS = {
  TSWS_ERR_CONFIG_DUPLICATE_MOUNT: error<Where & { mountpoint: string; vhost: string; first: string }>(
    (p) => `${p.where}: vhost "${p.vhost}" already has a mount at "${p.mountpoint}" (${p.first}); a request can only reach the first`,
    'Give each mount on a vhost its own mountpoint ("/a" and "/a/" are the same one): remove one, or move it.'),
  TSWS_ERR_CGI_SCRIPT: error<{ vhost: string; script: string; reason: string }>(
    (p) => `vhost "${p.vhost}": CGI script ${p.script} cannot be run: ${p.reason}`,
    'Check that the cgi:// origin names an existing file with the execute bit set for the server user.',
    { httpStatus: 500 }),
  TSWS_ERR_CGI_BAD_RESPONSE: error<{ vhost: string; script: string; detail: string }>(
    (p) => `vhost "${p.vhost}": CGI script ${p.script} gave no valid response: ${p.detail}`,
    'A CGI script must print header lines (at least Content-Type, Status or Location), an empty line, then the body (RFC 3875 section 6).',
    { httpStatus: 500 }),
  TSWS_ERR_CGI_TIMEOUT: error<{ vhost: string; script: string; seconds: number }>(
    (p) => `vhost "${p.vhost}": CGI script ${p.script} made no progress for ${p.seconds} s and was killed`,
    'Make the script answer sooner, or raise the mount\'s "cgi-timeout".',
    { httpStatus: 504 }),
  TSWS_WARN_CGI_STDERR: warning<{ vhost: string; script: string; pid: number; line: string }>(
    (p) => `vhost "${p.vhost}": CGI script ${p.script} (pid ${p.pid}) wrote to stderr: ${p.line}`,
    'Scripts\' stderr lands in this log; fix what the script complains about.'),
  TSWS_WARN_CGI_SCRIPT_UNUSABLE: warning<Where & { path: string; reason: string }>(
    (p) => `${p.where}: CGI script ${p.path} ${p.reason}; requests under this mount will get 500`,
    'Create the script or fix the origin (`_lws_ddir_` expands to --data-dir), and chmod +x it.'),
  TSWS_ERR_PROXY_UPSTREAM: error<{ vhost: string; upstream: string; reason: string }>(
    (p) => `vhost "${p.vhost}": upstream ${p.upstream} failed: ${p.reason}`,
    'Check that the upstream server of this http(s):// mount is running and reachable.',
    { httpStatus: 502, closeCode: 1014 }),
  TSWS_ERR_PROXY_TIMEOUT: error<{ vhost: string; upstream: string; seconds: number }>(
    (p) => `vhost "${p.vhost}": upstream ${p.upstream} did not accept a connection within ${p.seconds} s`,
    'Check that the upstream host is up and that no firewall drops the connection.',
    { httpStatus: 504 }),
  TSWS_ERR_PROXY_WS_BACKLOG: error<{ vhost: string; upstream: string; buffered: number }>(
    (p) => `vhost "${p.vhost}": upstream websocket ${p.upstream} fell ${p.buffered} bytes behind its client; the client was closed`,
    'The upstream reads too slowly for what its client sends: speed it up, or make the client wait for replies.',
    { closeCode: 1013 }),
  TSWS_ERR_BASIC_AUTH_FILE: error<{ vhost: string; file: string; reason: string }>(
    (p) => `vhost "${p.vhost}": basic-auth file ${p.file} cannot be read: ${p.reason}`,
    'Create the file (user:password lines) or fix the mount\'s "basic-auth" path; until then the mount answers 500.',
    { httpStatus: 500 }),
  TSWS_ERR_BASIC_AUTH_REFUSED: error<{ vhost: string; uri: string; user: string }>(
    (p) => `vhost "${p.vhost}": basic auth refused for ${p.uri}${p.user ? ` (user "${p.user}")` : ' (no credentials)'}`,
    'The client must send Authorization: Basic with a user:password line of the mount\'s basic-auth file.',
    { httpStatus: 401 }),
  TSWS_WARN_BASIC_AUTH_FILE: warning<Where & { file: string; reason: string }>(
    (p) => `${p.where}: basic-auth file ${p.file} ${p.reason}; requests under this mount will get 500`,
    'Create the file with one user:password line per user.'),
  TSWS_WARN_MOUNT_KEY_UNUSED: warning<Where & { key: string; origin: string }>(
    (p) => `${p.where}: "${p.key}" has no effect on a mount whose origin is "${p.origin}"`,
    'Remove the key, or move it to a mount of the kind it applies to (docs/reference/mounts.md).'),
} as const;
