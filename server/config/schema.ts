/** @module Every config key tsws knows, per block: its value type, its default and why, its documentation, or why it is not implemented. */
import fs from 'node:fs';
import { DEFAULT_LEVEL } from '../base/log.ts';
import { openFileLimit } from '../base/os-limits.ts';
import { INSTANCE_ID, defaultInstanceId } from './instance-id.ts';
import { key, later, type Block, type Values } from './key-spec.ts';
import {
  bool, checked, envPairs, filePath, headerPairs, int, logLevel, mimeTypes, nested, oneOf, pathList, pingSecs, plainPath, rate, statusPairs, string, stringList, unchecked,
} from './value-types.ts';

export type { Block, KeyDef, KeyKind } from './key-spec.ts';

/**
 * The default ceiling on one websocket message ("ws-max-message-size"):
 * generous, since lws has no such limit at all (it hands a long message to
 * the plugin in rx_buffer_size pieces), yet a bound on what one connection
 * can make the server hold.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

/** Largest HTTP request body accepted where a mount or protocol says nothing else: uploads are streamed, so this bounds disk and upstream use, not memory. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** The largest value the key takes: uWS.js counts payload lengths in a signed 32-bit int, and the transport cap is twice the limit. */
export const MAX_MESSAGE_CEILING = 1024 * 1024 * 1024;

/**
 * TLS 1.2 ciphers when "ciphers" says nothing: Mozilla's "intermediate" list
 * (forward secrecy and AEAD only; TLS 1.0 and 1.1 are off in uWS.js's
 * BoringSSL anyway). TLS 1.3's suites are BoringSSL's fixed, all-strong set.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305',
].join(':');

const AS_LWS = 'as lws';

export const GLOBAL_KEYS = {
  'server-string': key(string, { default: 'tsws', why: 'says which server answered, as lwsws sends "lwsws"', doc: 'Server header on every HTTP response.' }),
  'plugin-dir': key(pathList, {
    defaultFrom: (ctx) => [ctx.expand.path('plugins')].filter((d) => fs.existsSync(d)),
    shown: '<config-dir>/plugins (when it exists)',
    why: 'a config directory carries its own plugins beside conf and conf.d',
    doc: 'Directories of your plugins, every one loaded. Relative paths are relative to the config directory. tsws\'s shipped plugins load only where a vhost names one of their protocols and yours do not (docs/reference/protocols.md).',
  }),
  'count-threads': key(int(1, 64), {
    default: 1,
    why: 'one uWS.js loop fills a core before it runs out of connections: add threads for cores, not for clients',
    doc: 'Worker threads serving every listener together (SO_REUSEPORT), each with its own plugins; broadcasts reach all of them. See "Threads" in docs/guides/operating.md.',
  }),
  'channel-idle-max': key(int(0, 100_000_000), {
    default: 10_000,
    why: 'a channel nobody follows or is in costs its kept history; clients can name any number of them',
    doc: 'Idle channels (no subscriber, no presence member) that still keep history, per vhost and protocol, in this process or count-threads\' main thread; past it the least recently used is freed with its history, and a reader resuming from it is told "epoch-changed". Idle channels keeping nothing are freed at once. 0 keeps no idle history. Not used in a cluster (Redis holds the history). See docs/reference/channels.md.',
  }),
  'ws-pingpong-secs': key(pingSecs, {
    default: 0,
    shown: '0 (off)',
    why: 'uWS.js restarts the timer on every send: on, it costs about a tenth of fan-out throughput',
    doc: 'Ping a websocket idle this long and close it if it stays silent (lwsws parses but ignores this; tsws honours it). Rounded up to a multiple of 4, minimum 8. This is uWS.js\'s own timer, restarted by every byte sent or received: it costs about a tenth of fan-out throughput, and does not cut a frame trickled a byte at a time; ws-message-timeout-secs (on by default) already cuts peers that stall. Useful below a load balancer\'s idle timeout when that is under ws-message-timeout-secs.',
  }),
  'ws-message-timeout-secs': key(int(0, 3600), {
    default: 30,
    why: 'half the 60 s idle timeout of an AWS load balancer, and long enough for a large message over a slow link',
    doc: 'tsws: a websocket that has sent no whole message and no pong for this long is pinged, and cut (no close frame, as lws does) if it then stays silent as long again; so a message may take at least this long to arrive, and a peer stalled in the middle of a frame (which cannot answer: its pong would be payload) is gone within about twice this. Idle peers that answer pings (browsers, every websocket library) stay. 0: off. Checked every few seconds by a sweep: no cost per message.',
  }),
  'ws-max-message-size': key(int(1, MAX_MESSAGE_CEILING), {
    default: DEFAULT_MAX_MESSAGE_SIZE,
    shown: '16777216 (16 MiB)',
    why: 'generous, as lws has no limit at all, yet a bound on what one connection can make the server hold',
    doc: 'tsws: the largest websocket message, in bytes, any protocol accepts; a longer one closes the connection with 1009. A vhost may set its own; a plugin\'s maxMessageSize can only lower it. (lws has no such limit: it hands long messages to plugins in rx_buffer_size pieces.)',
  }),
  'init-ssl': key(unchecked('bool'), { doc: 'Accepted for compatibility: TLS is always initialised when a vhost needs it.' }),
  'watchdog-secs': key(int(0, 3600), {
    default: 5,
    why: 'far beyond any honest callback, short enough that a stuck thread serves again before clients give up',
    doc: 'tsws: a plugin callback holding a serving thread this long is interrupted (the thread serves on; the culprit is logged as TSWS_ERR_WATCHDOG_INTERRUPTED); 0 turns the watchdog off. See "Watchdog" in docs/guides/operating.md.',
  }),
  'grace-secs': key(int(0, 3600), {
    default: 10,
    why: 'lets a typical response finish and stays well inside ECS\'s 30 s stopTimeout',
    doc: 'tsws: on SIGTERM/SIGINT, how long websockets and in-flight HTTP responses get to finish before they are cut (keep it under ECS stopTimeout, 30 s by default).',
  }),
  'log-level': key(logLevel, { default: DEFAULT_LEVEL, why: 'start, stop, reload and listener lines, without per-request noise', doc: 'pino level (fatal, error, warn, info, debug, trace, silent) when -d is not given.' }),
  cluster: key(nested('object'), {
    absent: 'none: one instance, in-process bus',
    why: 'one instance needs no Redis',
    doc: 'Run as one of several instances sharing broadcasts and state through Redis: see the cluster keys and "Running several instances".',
  }),
  uid: key(int(), { doc: 'User id to drop to once listeners are bound, certificates and logs opened and every init has run (needs root).' }),
  gid: key(int(), { doc: 'Group id to drop to (setgid before setuid).' }),
  username: key(string, { doc: 'User to drop to, by name; its groups are set with initgroups. An unknown name stops start-up.' }),
  groupname: key(string, { doc: 'Group to drop to, by name. An unknown name stops start-up.' }),
  'timeout-secs': key(int(1, 3600), {
    default: 20,
    why: 'a slow client\'s body keeps moving within it; a slowloris holding the connection does not',
    doc: 'A request body that stalls this long is cut (slowloris); stalled headers are cut by uWS.js itself after 10 s.',
  }),
  metrics: key(nested('object'), {
    absent: 'none: no metrics',
    why: 'metrics tell about traffic: served only where asked for',
    doc: 'Prometheus metrics in the text format: see the metrics keys. With "port" on a listener of their own (keep it off the internet), otherwise at "path" on every vhost.',
  }),
  'reject-service-keywords': key(statusPairs, { default: [], why: AS_LWS, doc: 'User-Agent substrings and the status that answers them, e.g. [{"scanner": "403"}]; HTTP requests and upgrades alike.' }),
  'ip-limit-wsi': key(int(), {
    defaultFrom: defaultPerAddressLimit,
    shown: 'a quarter of the open-file limit',
    why: 'one address cannot take the whole fd table',
    doc: 'Websocket connections one address may hold at once; the next upgrade gets 503. 0: no limit (behind a load balancer every client comes from its few addresses: raise it or set 0 there).',
  }),
  'default-alpn': later('string', 'tsws serves HTTP/1.1 only', 'Default ALPN protocol.'),
  'ip-limit-ah': later('int', 'uWS.js parses headers itself and does not say whose they are until they are complete', 'Max simultaneous HTTP headers per address.'),
  'rlimit-nofile': later('int', 'Node cannot raise its own open-file limit; use ulimit -n', 'Open-file limit.'),
  'count-async-threads': later('int', 'lws async-queue worker threads; tsws has no such queue', 'lws: threads of the async work queue.'),
  'cpd-bypass': later('bool', 'tsws has no captive portal detection', 'lws: skip captive portal detection.'),
  'quic-pad-crypto': later('bool', 'tsws serves HTTP/1.1 only, no QUIC', 'lws: pad QUIC crypto frames.'),
  'allow-early-data': later('bool', 'uWS.js exposes no TLS 1.3 early data (0-RTT)', 'lws: accept TLS 1.3 / QUIC early data.'),
  'quic-only-latest': later('bool', 'tsws serves HTTP/1.1 only, no QUIC', 'lws: only the latest QUIC version.'),
  'quic-early-key-update': later('bool', 'tsws serves HTTP/1.1 only, no QUIC', 'lws: early QUIC key update.'),
} satisfies Block;

export const VHOST_KEYS = {
  name: key(string, { default: 'default', why: AS_LWS, doc: 'Host name this vhost answers to (the Host header, without port). A control character (NUL, newline, ...) in it is an error.' }),
  port: key(int(0, 65535), { doc: 'TCP port. Required unless unix-socket is set; 0 picks a free port (logged at start-up).' }),
  interface: key(string, {
    absent: 'all interfaces',
    why: AS_LWS,
    doc: 'An IPv4/IPv6 address or an interface name (e.g. "lo") to bind; with unix-socket, the socket path.',
  }),
  'unix-socket': key(bool, { default: false, why: AS_LWS, doc: 'Listen on the UNIX domain socket named by "interface".' }),
  'access-log': key(filePath, { doc: 'File receiving one lwsws/NCSA-format line per request (buffered).' }),
  mounts: key(nested('array'), { doc: 'URL space of the vhost: see the mount keys.' }),
  'ws-protocols': key(nested('array'), { doc: 'Protocols offered on this vhost, each with its options.' }),
  'error-document-404': key(string, { doc: 'Path on this vhost served with status 404 when nothing matches.' }),
  'health-path': key(plainPath, {
    doc: 'tsws: a path (e.g. "/healthz") answered before any mount with 200 "ok" while the server accepts traffic and 503 "draining" once it is stopping; for load balancer and container health checks.',
  }),
  listen: key(nested('array'), {
    doc: 'tsws: more addresses for this vhost beside port/interface, e.g. [{"interface": "::", "port": "2221"}, {"unix-socket": "/run/x.sock"}].',
  }),
  'ws-origins': key(stringList, {
    absent: 'any',
    why: 'as lws, which does not look at Origin; a non-browser client sends none',
    doc: 'tsws: Origin values allowed to open websockets; an upgrade with another Origin gets 403 (one without Origin, a non-browser client, is let through).',
  }),
  'ws-max-message-size': key(int(1, MAX_MESSAGE_CEILING), {
    absent: 'the global value',
    why: 'one limit for the whole server unless a vhost needs its own',
    doc: 'tsws: the largest websocket message, in bytes, on this vhost (overrides the global key); a plugin\'s maxMessageSize can only lower it. A protocol\'s entry in ws-protocols may set its own ("echo": {"ws-max-message-size": "4194304"}), which wins over both.',
  }),
  'ws-rate-limit-address': key(rate, {
    absent: 'off',
    why: 'addresses are shared (NAT, proxies, mobile carriers): only the operator knows a fair figure',
    doc: 'tsws: websocket messages per remote address, all its connections to this vhost together, as nginx\'s limit_req writes it: "20r/s", "600r/m", optionally " burst=40" (default burst: one second\'s worth). Over it, the connection that sent the message is closed with 1008, as a protocol\'s own rateLimit does. With a cluster the count is shared by every instance (docs/reference/security.md).',
  }),
  'ws-rate-limit-user': key(rate, {
    absent: 'off',
    why: 'a user\'s fair rate depends on the application',
    doc: 'tsws: websocket messages per authenticated user (the subject a filter accepted with, e.g. a JWT\'s "sub"), all their connections to this vhost together; same form and same close as ws-rate-limit-address. Connections nobody authenticated are not counted here.',
  }),
  sts: key(bool, {
    default: false,
    why: 'as lws: pinning browsers to https for half a year is for the operator to choose',
    doc: 'Send Strict-Transport-Security (max-age=15768000; includeSubDomains) with every response, as lws does whenever it is set: on a plain vhost too, where TLS ends at a proxy in front (browsers ignore it over plain http).',
  }),
  'host-ssl-key': key(filePath, { doc: 'TLS private key (PEM). With host-ssl-cert the vhost serves TLS; vhosts of one TLS port are told apart by SNI.' }),
  'host-ssl-cert': key(filePath, { doc: 'TLS certificate (PEM), for the vhost name. A missing or unreadable file stops start-up with the file named.' }),
  'host-ssl-ca': key(filePath, { doc: 'CA chain (PEM) sent with the certificate.' }),
  'ignore-missing-cert': key(bool, {
    default: false,
    why: 'a vhost that cannot serve should stop start-up, not vanish',
    doc: 'A vhost whose certificate or key is missing is skipped (with an error line) instead of stopping start-up.',
  }),
  'redirect-http': key(bool, {
    default: false,
    why: AS_LWS,
    doc: 'On a plain vhost: answer every request with 301 to https:// on the TLS port of the vhost of the same name (443 when there is none).',
  }),
  headers: key(headerPairs, {
    default: [],
    why: AS_LWS,
    doc: 'Extra headers on every HTTP response of this vhost, e.g. [{"Content-Security-Policy": "default-src \'self\'"}]; a mount\'s own "headers" win over these, and both win over a header of the same name from a script or upstream.',
  }),
  ciphers: key(string, {
    default: INTERMEDIATE_CIPHERS,
    shown: 'Mozilla\'s "intermediate" list',
    why: 'forward secrecy and AEAD only, and every browser of the last decade connects',
    doc: 'OpenSSL cipher list for TLS 1.2 (TLS 1.0 and 1.1 are never offered).',
  }),
  'unix-socket-perms': later('string', 'socket ownership is planned', 'owner:group of the UNIX socket.'),
  'allow-non-tls': later('bool', 'uWS.js cannot serve TLS and plain HTTP on one port: give the plain vhost its own port', 'Serve plain HTTP on a TLS port.'),
  keepalive_timeout: later('int', 'uWebSockets.js fixes its own keep-alive timeout', 'HTTP keep-alive timeout.'),
  'enable-client-ssl': later('bool', 'tsws has no client contexts', 'Client TLS.'),
  'ecdh-curve': later('string', 'uWS.js exposes no such setting', 'ECDH curve.'),
  noipv6: later('bool', 'listeners bind what "interface" names', 'Disable IPv6.'),
  ipv6only: later('bool', 'listeners bind what "interface" names', 'IPv6 only.'),
  'ssl-option-set': later('int', 'uWS.js exposes no such setting', 'OpenSSL options to set.'),
  'ssl-option-clear': later('int', 'uWS.js exposes no such setting', 'OpenSSL options to clear.'),
  'client-ssl-key': later('string', 'tsws has no client contexts', 'Client TLS key.'),
  'client-ssl-cert': later('string', 'tsws has no client contexts', 'Client TLS certificate.'),
  'client-ssl-ca': later('string', 'tsws has no client contexts', 'Client TLS CA.'),
  'client-ssl-ciphers': later('string', 'tsws has no client contexts', 'Client TLS ciphers.'),
  onlyraw: later('bool', 'raw sockets are not supported', 'Raw socket vhost.'),
  'client-cert-required': later('bool', 'uWS.js exposes no client-certificate verification', 'Require client certificates.'),
  alpn: later('string', 'tsws serves HTTP/1.1 only', 'ALPN list.'),
  'fo-listen-queue': later('int', 'TCP fast open is not supported', 'TCP fast open queue.'),
  'ssl-client-option-set': later('int', 'tsws has no client contexts', 'Client OpenSSL options.'),
  'ssl-client-option-clear': later('int', 'tsws has no client contexts', 'Client OpenSSL options.'),
  'tls13-ciphers': later('string', 'uWS.js\'s BoringSSL has no setting for them: its TLS 1.3 suites are the fixed AES-GCM and ChaCha20 set', 'TLS 1.3 ciphers.'),
  'client-tls13-ciphers': later('string', 'tsws has no client contexts', 'Client TLS 1.3 ciphers.'),
  'strict-host-check': later('bool', 'unknown Host names fall back to the first vhost of the port', 'Refuse unknown Host.'),
  'listen-accept-role': later('string', 'raw sockets are not supported', 'Role for accepted sockets.'),
  'listen-accept-protocol': later('string', 'raw sockets are not supported', 'Protocol for accepted sockets.'),
  'apply-listen-accept': later('bool', 'raw sockets are not supported', 'Apply listen-accept config.'),
  'fallback-listen-accept': later('bool', 'raw sockets are not supported', 'Fallback listen-accept.'),
  'allow-http-on-https': later('bool', 'uWS.js cannot serve TLS and plain HTTP on one port', 'Serve HTTP on HTTPS listener.'),
  'disable-no-protocol-ws-upgrades': later('bool', 'the default protocol serves upgrades naming none', 'Refuse upgrades without a protocol.'),
  'h2-half-closed-long-poll': later('bool', 'tsws serves HTTP/1.1 only', 'HTTP/2 long poll.'),
  'client-ecdh-curve': later('string', 'tsws has no client contexts', 'lws: ECDH curve of the client TLS context.'),
  dht: later('array', 'tsws has no DHT', 'lws: distributed hash table nodes on this vhost.'),
  'quic-mtu': later('int', 'tsws serves HTTP/1.1 only, no QUIC', 'lws: QUIC MTU.'),
  'quic-preferred-addresses': later('string', 'tsws serves HTTP/1.1 only, no QUIC', 'lws: QUIC preferred addresses.'),
} satisfies Block;

export const MOUNT_KEYS = {
  mountpoint: key(string, { doc: 'URL prefix; the longest one matching at a "/" boundary wins. Two mounts of a vhost at one mountpoint ("/a" and "/a/" are one) are an error, TSWS_ERR_CONFIG_DUPLICATE_MOUNT, unless one of them is exact-match.' }),
  origin: key(string, {
    doc: 'What serves it: file://dir, cgi://script, callback://protocol, http(s)://host:port/path (proxy), >http(s)://url (redirect).',
  }),
  default: key(string, { default: 'index.html', why: AS_LWS, doc: 'File served for a directory.' }),
  'cache-max-age': key(int(), { default: 0, why: AS_LWS, doc: 'Seconds a client may reuse a file (with cache-reuse).' }),
  'cache-reuse': key(bool, { default: false, why: 'as lws: a changed file is seen at once unless the operator says it may be kept', doc: 'Allow caching at all; without it files are sent "no-store".' }),
  'cache-revalidate': key(bool, { default: false, why: AS_LWS, doc: 'Add must-revalidate.' }),
  'cache-intermediaries': key(bool, { default: false, why: 'as lws: a shared cache keeps nothing unless told it may', doc: 'public (1) or private (0) caching.' }),
  'cache-no': key(bool, { default: false, why: AS_LWS, doc: 'Files are sent "Cache-Control: no-cache" (the client may keep them but checks with the server each time); wins over the other cache keys, as in lws.' }),
  'exact-match': key(bool, { default: false, why: AS_LWS, doc: 'The mount serves its mountpoint only, not the paths below it; at the same length it wins over a prefix mount.' }),
  'no-ws-upgrades': key(bool, { default: false, why: AS_LWS, doc: 'Websocket upgrades ignore this mount (an upgrade on a proxy mount is then given to the vhost\'s protocols, or the next mount).' }),
  'keepalive-timeout': key(int(), {
    default: 0,
    shown: '0 (the server\'s)',
    why: 'uWS.js keeps its own 10 s',
    doc: 'Seconds an HTTP connection may stay idle after a response of this mount, sent as "Keep-Alive: timeout=N". uWS.js closes idle connections after 10 s whatever is asked: more is cut to 10 (with a warning), less is left to the client.',
  }),
  'cgi-chdir': key(filePath, {
    absent: 'the script\'s directory',
    why: 'a script finds the files beside it',
    doc: 'cgi:// mounts: the working directory of the script (lws: /tmp when not given).',
  }),
  'extra-mimetypes': key(mimeTypes, { default: new Map<string, string>(), why: 'the built-in table knows the usual types', doc: 'Extension to MIME type, e.g. {".zip": "application/zip"}.' }),
  protocol: key(unchecked('string'), { doc: 'Protocol for callback mounts (lwsws sets it from the origin too).' }),
  'cgi-timeout': key(int(1), {
    default: 5,
    why: 'only progress counts, not total time: a script silent this long is stuck, not slow',
    doc: 'cgi:// mounts: seconds a script may go without any input or output progress (time the client holds it back does not count); then it is killed, and the client gets 504 if nothing was sent yet.',
  }),
  'cgi-env': key(envPairs, { default: [], why: AS_LWS, doc: 'cgi:// mounts: extra environment variables, e.g. [{"APP_MODE": "prod"}]; they win over the CGI meta-variables.' }),
  'basic-auth': key(filePath, {
    doc: 'File of user:password lines (re-read when it changes); requests without a matching Authorization: Basic header get 401 with WWW-Authenticate: Basic realm="tsws".',
  }),
  headers: key(headerPairs, { default: [], why: AS_LWS, doc: 'Extra headers on every HTTP response of this mount, e.g. [{"X-Frame-Options": "DENY"}]; they win over the vhost\'s "headers".' }),
  'append-path': key(bool, {
    default: false,
    why: 'as lwsws, which redirects to the target as written',
    doc: 'tsws extension for >http(s):// mounts: append the rest of the path below the mountpoint, and the query, to the redirect target (lwsws always redirects to the target as written).',
  }),
  'cgi-chroot': later('string', 'the server would need to stay root to chroot each script', 'lws: chroot of the CGI child.'),
  'interceptor-path': later('string', 'lws JOSE interceptors are not supported', 'lws: mount to divert unauthorised requests to.'),
  interpret: later(
    'map',
    'lws runs files of a suffix through a protocol\'s PROCESS_HTML callback, which tsws plugins do not have; use a callback:// mount instead',
    'Extension to protocol that interprets it.',
  ),
  'auth-mask': later('int', 'lws auth masks are not supported', 'lws auth mask.'),
  pmo: later('pair-list', 'per-mount options are planned', 'Per-mount options for callback protocols.'),
} satisfies Block;

/** Keys of the global "cluster" object. */
export const CLUSTER_KEYS = {
  redis: key(checked((s) => /^rediss?:\/\/./.test(s), (s) => `"${s}" is not a redis:// or rediss:// URL`), {
    doc: 'Redis URL, redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). Required.',
  }),
  prefix: key(string, { default: 'tsws:', why: 'one cluster per Redis unless told apart', doc: 'Prefix of every Redis key and channel: instances sharing it form one cluster.' }),
  instance: key(checked((s) => INSTANCE_ID.test(s), () => 'use 1 to 64 letters, digits, ".", "_", ":" or "-"'), {
    defaultFrom: defaultInstanceId,
    shown: '<hostname>-<pid>-<random>',
    why: 'a restarted task must not inherit what its crashed predecessor left; those entries expire',
    doc: 'This instance\'s id, shown in status lists and logs; unique in the cluster.',
  }),
  'unreachable-at-start': key(oneOf(['retry', 'local']), {
    default: 'retry',
    why: 'an instance serving alone splits the cluster\'s users without anyone noticing',
    doc: '"retry": log TSWS_ERR_CLUSTER_UNREACHABLE and retry (not listening) until Redis answers; "local": serve alone, as without "cluster", until restarted.',
  }),
  'ttl-secs': key(int(1, 3600), {
    default: 15,
    why: 'three heartbeats: one lost beat does not make a live instance vanish',
    doc: 'A crashed instance\'s entries (status clients, chat members) vanish this long after its last heartbeat (sent every third of it).',
  }),
  'max-queue': key(int(1, 10_000_000), {
    default: 10_000,
    why: 'rides out a short Redis outage under load, in bounded memory',
    doc: 'Publications waiting for Redis (it is slow or away); past it they are dropped and counted. Local delivery never waits.',
  }),
} satisfies Block;

/** Keys of the global "metrics" object. */
export const METRICS_KEYS = {
  path: key(plainPath, { default: '/metrics', why: 'where Prometheus looks unless told otherwise', doc: 'Path answering the scrape (GET or HEAD).' }),
  port: key(int(0, 65535), {
    doc: 'Serve the metrics on a listener of their own on this port (0 picks a free one, logged at start-up), and only there; without it "path" is answered on every vhost, before any mount.',
  }),
  interface: key(string, {
    absent: 'all interfaces',
    why: 'as a vhost\'s',
    doc: 'With "port": the address to bind, e.g. "127.0.0.1" when the scraper runs on the same host.',
  }),
} satisfies Block;

export const TOP_LEVEL_KEYS = {
  global: key(nested('object'), { doc: 'Server-wide settings (usually in conf).' }),
  vhosts: key(nested('array'), { doc: 'Virtual hosts (usually one file per vhost in conf.d/).' }),
} satisfies Block;

export type GlobalValues = Values<typeof GLOBAL_KEYS>;
export type VhostValues = Values<typeof VHOST_KEYS>;
export type MountValues = Values<typeof MOUNT_KEYS>;
export type ClusterValues = Values<typeof CLUSTER_KEYS>;
export type MetricsValues = Values<typeof METRICS_KEYS>;

/**
 * Unset ip-limit-wsi: a quarter of the open-file limit per address, so one
 * address cannot take the whole fd table (behind a load balancer every
 * client comes from its few addresses: raise it there, or set 0 for none).
 */
function defaultPerAddressLimit(): number {
  const limit = openFileLimit();
  return limit ? Math.floor(limit / 4) : 0;
}
