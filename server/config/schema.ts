/** @module Every config key tsws knows, per block, with its type, default and whether it is implemented. */

export type KeyKind =
  | 'string'
  | 'int'
  | 'bool'
  /** a string, or an array of strings (lwsws repeats the key instead) */
  | 'string-list'
  /** an object of string values, e.g. extra-mimetypes */
  | 'map'
  /** an array of one-key objects, e.g. headers: [{"X-A": "1"}] */
  | 'pair-list'
  | 'array'
  /** an object with keys of its own, documented in their own table (e.g. cluster) */
  | 'object';

export interface KeyDef {
  readonly kind: KeyKind;
  readonly doc: string;
  /** Default as documented; the loader applies defaults itself. */
  readonly default?: string;
  /** Set when lwsws has the key but tsws does not act on it: says why or when. */
  readonly notImplemented?: string;
}

/**
 * The default ceiling on one websocket message ("ws-max-message-size"):
 * generous, since lws has no such limit at all (it hands a long message to
 * the plugin in rx_buffer_size pieces), yet a bound on what one connection
 * can make the server hold.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** The largest value the key takes: uWS.js counts payload lengths in a signed 32-bit int, and the transport cap is twice the limit. */
export const MAX_MESSAGE_CEILING = 1024 * 1024 * 1024;

const later = (what: string): Pick<KeyDef, 'notImplemented'> => ({ notImplemented: what });

export const GLOBAL_KEYS: Readonly<Record<string, KeyDef>> = {
  'server-string': { kind: 'string', default: 'tsws', doc: 'Server header on every HTTP response.' },
  'plugin-dir': {
    kind: 'string-list',
    default: '<config-dir>/plugins',
    doc: 'Directories searched for plugins, after the shipped plugins/ of tsws itself. Relative paths are relative to the config directory.',
  },
  'count-threads': { kind: 'int', default: '1', doc: 'Worker threads serving every listener together (SO_REUSEPORT), each with its own plugins; broadcasts reach all of them. See "Threads" in README.md.' },
  'ws-pingpong-secs': {
    kind: 'int',
    default: '0 (off)',
    doc: 'Ping a websocket idle this long and close it if it stays silent (lwsws parses but ignores this; tsws honours it). Rounded up to a multiple of 4, minimum 8. This is uWS.js\'s own timer, restarted by every byte sent or received: it costs about a tenth of fan-out throughput, and does not cut a frame trickled a byte at a time; ws-message-timeout-secs (on by default) already cuts peers that stall. Useful below a load balancer\'s idle timeout when that is under ws-message-timeout-secs.',
  },
  'ws-message-timeout-secs': {
    kind: 'int',
    default: '30',
    doc: 'tsws: a websocket that has sent no whole message and no pong for this long is pinged, and cut (no close frame, as lws does) if it then stays silent as long again; so a message may take at least this long to arrive, and a peer stalled in the middle of a frame (which cannot answer: its pong would be payload) is gone within about twice this. Idle peers that answer pings (browsers, every websocket library) stay. 0: off. Checked every few seconds by a sweep: no cost per message.',
  },
  'ws-max-message-size': {
    kind: 'int',
    default: '16777216 (16 MiB)',
    doc: 'tsws: the largest websocket message, in bytes, any protocol accepts; a longer one closes the connection with 1009. A vhost may set its own; a plugin\'s maxMessageSize can only lower it. (lws has no such limit: it hands long messages to plugins in rx_buffer_size pieces.)',
  },
  'init-ssl': { kind: 'bool', doc: 'Accepted for compatibility: TLS is always initialised when a vhost needs it.' },
  'watchdog-secs': {
    kind: 'int',
    default: '5',
    doc: 'tsws: a plugin callback holding a serving thread this long is interrupted (the thread serves on; the culprit is logged as TSWS_ERR_WATCHDOG_INTERRUPTED); 0 turns the watchdog off. See "Watchdog" in README.md.',
  },
  'grace-secs': { kind: 'int', default: '10', doc: 'tsws: on SIGTERM/SIGINT, how long websockets and in-flight HTTP responses get to finish before they are cut (keep it under ECS stopTimeout, 30 s by default).' },
  'log-level': { kind: 'string', default: 'info', doc: 'pino level (fatal, error, warn, info, debug, trace, silent) when -d is not given.' },
  cluster: {
    kind: 'object',
    default: 'none: one instance, in-process bus',
    doc: 'Run as one of several instances sharing broadcasts and state through Redis: see the cluster keys and "Running several instances".',
  },
  uid: { kind: 'int', doc: 'User id to drop to once listeners are bound, certificates and logs opened and every init has run (needs root).' },
  gid: { kind: 'int', doc: 'Group id to drop to (setgid before setuid).' },
  username: { kind: 'string', doc: 'User to drop to, by name; its groups are set with initgroups. An unknown name stops start-up.' },
  groupname: { kind: 'string', doc: 'Group to drop to, by name. An unknown name stops start-up.' },
  'timeout-secs': { kind: 'int', default: '20', doc: 'A request body that stalls this long is cut (slowloris); stalled headers are cut by uWS.js itself after 10 s.' },
  metrics: {
    kind: 'object',
    default: 'none: no metrics',
    doc: 'Prometheus metrics in the text format: see the metrics keys. With "port" on a listener of their own (keep it off the internet), otherwise at "path" on every vhost.',
  },
  'reject-service-keywords': { kind: 'pair-list', doc: 'User-Agent substrings and the status that answers them, e.g. [{"scanner": "403"}]; HTTP requests and upgrades alike.' },
  'default-alpn': { kind: 'string', ...later('tsws serves HTTP/1.1 only'), doc: 'Default ALPN protocol.' },
  'ip-limit-ah': { kind: 'int', ...later('uWS.js parses headers itself and does not say whose they are until they are complete'), doc: 'Max simultaneous HTTP headers per address.' },
  'ip-limit-wsi': { kind: 'int', default: 'a quarter of the open-file limit', doc: 'Websocket connections one address may hold at once; the next upgrade gets 503. 0: no limit (behind a load balancer every client comes from its few addresses: raise it or set 0 there).' },
  'rlimit-nofile': { kind: 'int', ...later('Node cannot raise its own open-file limit; use ulimit -n'), doc: 'Open-file limit.' },
  'count-async-threads': { kind: 'int', ...later('lws async-queue worker threads; tsws has no such queue'), doc: 'lws: threads of the async work queue.' },
  'cpd-bypass': { kind: 'bool', ...later('tsws has no captive portal detection'), doc: 'lws: skip captive portal detection.' },
  'quic-pad-crypto': { kind: 'bool', ...later('tsws serves HTTP/1.1 only, no QUIC'), doc: 'lws: pad QUIC crypto frames.' },
  'allow-early-data': { kind: 'bool', ...later('uWS.js exposes no TLS 1.3 early data (0-RTT)'), doc: 'lws: accept TLS 1.3 / QUIC early data.' },
  'quic-only-latest': { kind: 'bool', ...later('tsws serves HTTP/1.1 only, no QUIC'), doc: 'lws: only the latest QUIC version.' },
  'quic-early-key-update': { kind: 'bool', ...later('tsws serves HTTP/1.1 only, no QUIC'), doc: 'lws: early QUIC key update.' },
};

export const VHOST_KEYS: Readonly<Record<string, KeyDef>> = {
  name: { kind: 'string', default: 'default', doc: 'Host name this vhost answers to (the Host header, without port).' },
  port: { kind: 'int', doc: 'TCP port. Required unless unix-socket is set; 0 picks a free port (logged at start-up).' },
  interface: {
    kind: 'string',
    default: 'all interfaces',
    doc: 'An IPv4/IPv6 address or an interface name (e.g. "lo") to bind; with unix-socket, the socket path.',
  },
  'unix-socket': { kind: 'bool', default: '0', doc: 'Listen on the UNIX domain socket named by "interface".' },
  'access-log': { kind: 'string', doc: 'File receiving one lwsws/NCSA-format line per request (buffered).' },
  mounts: { kind: 'array', doc: 'URL space of the vhost: see the mount keys.' },
  'ws-protocols': { kind: 'array', doc: 'Protocols offered on this vhost, each with its options.' },
  'error-document-404': { kind: 'string', doc: 'Path on this vhost served with status 404 when nothing matches.' },
  'health-path': {
    kind: 'string',
    doc: 'tsws: a path (e.g. "/healthz") answered before any mount with 200 "ok" while the server accepts traffic and 503 "draining" once it is stopping; for load balancer and container health checks.',
  },
  listen: {
    kind: 'array',
    doc: 'tsws: more addresses for this vhost beside port/interface, e.g. [{"interface": "::", "port": "2221"}, {"unix-socket": "/run/x.sock"}].',
  },
  'ws-origins': { kind: 'string-list', default: 'any', doc: 'tsws: Origin values allowed to open websockets; an upgrade with another Origin gets 403 (one without Origin, a non-browser client, is let through).' },
  'ws-max-message-size': { kind: 'int', default: 'the global value', doc: 'tsws: the largest websocket message, in bytes, on this vhost (overrides the global key); a plugin\'s maxMessageSize can only lower it. A protocol\'s entry in ws-protocols may set its own ("echo": {"ws-max-message-size": "4194304"}), which wins over both.' },
  'unix-socket-perms': { kind: 'string', ...later('socket ownership is planned'), doc: 'owner:group of the UNIX socket.' },
  sts: {
    kind: 'bool',
    default: '0',
    doc: 'Send Strict-Transport-Security (max-age=15768000; includeSubDomains) with every response, as lws does whenever it is set: on a plain vhost too, where TLS ends at a proxy in front (browsers ignore it over plain http).',
  },
  'host-ssl-key': { kind: 'string', doc: 'TLS private key (PEM). With host-ssl-cert the vhost serves TLS; vhosts of one TLS port are told apart by SNI.' },
  'host-ssl-cert': { kind: 'string', doc: 'TLS certificate (PEM), for the vhost name. A missing or unreadable file stops start-up with the file named.' },
  'host-ssl-ca': { kind: 'string', doc: 'CA chain (PEM) sent with the certificate.' },
  'ignore-missing-cert': { kind: 'bool', default: '0', doc: 'A vhost whose certificate or key is missing is skipped (with an error line) instead of stopping start-up.' },
  'allow-non-tls': { kind: 'bool', ...later('uWS.js cannot serve TLS and plain HTTP on one port: give the plain vhost its own port'), doc: 'Serve plain HTTP on a TLS port.' },
  'redirect-http': { kind: 'bool', default: '0', doc: 'On a plain vhost: answer every request with 301 to https:// on the TLS port of the vhost of the same name (443 when there is none).' },
  headers: {
    kind: 'pair-list',
    doc: 'Extra headers on every HTTP response of this vhost, e.g. [{"Content-Security-Policy": "default-src \'self\'"}]; a mount\'s own "headers" win over these, and both win over a header of the same name from a script or upstream.',
  },
  keepalive_timeout: { kind: 'int', ...later('uWebSockets.js fixes its own keep-alive timeout'), doc: 'HTTP keep-alive timeout.' },
  'enable-client-ssl': { kind: 'bool', ...later('tsws has no client contexts'), doc: 'Client TLS.' },
  ciphers: { kind: 'string', doc: 'OpenSSL cipher list for TLS 1.2 (TLS 1.0 and 1.1 are never offered). Unset: Mozilla\'s "intermediate" list, forward secrecy and AEAD only (server/config/vhost-transport.ts).' },
  'ecdh-curve': { kind: 'string', ...later('uWS.js exposes no such setting'), doc: 'ECDH curve.' },
  noipv6: { kind: 'bool', ...later('listeners bind what "interface" names'), doc: 'Disable IPv6.' },
  ipv6only: { kind: 'bool', ...later('listeners bind what "interface" names'), doc: 'IPv6 only.' },
  'ssl-option-set': { kind: 'int', ...later('uWS.js exposes no such setting'), doc: 'OpenSSL options to set.' },
  'ssl-option-clear': { kind: 'int', ...later('uWS.js exposes no such setting'), doc: 'OpenSSL options to clear.' },
  'client-ssl-key': { kind: 'string', ...later('tsws has no client contexts'), doc: 'Client TLS key.' },
  'client-ssl-cert': { kind: 'string', ...later('tsws has no client contexts'), doc: 'Client TLS certificate.' },
  'client-ssl-ca': { kind: 'string', ...later('tsws has no client contexts'), doc: 'Client TLS CA.' },
  'client-ssl-ciphers': { kind: 'string', ...later('tsws has no client contexts'), doc: 'Client TLS ciphers.' },
  onlyraw: { kind: 'bool', ...later('raw sockets are not supported'), doc: 'Raw socket vhost.' },
  'client-cert-required': { kind: 'bool', ...later('uWS.js exposes no client-certificate verification'), doc: 'Require client certificates.' },
  alpn: { kind: 'string', ...later('tsws serves HTTP/1.1 only'), doc: 'ALPN list.' },
  'fo-listen-queue': { kind: 'int', ...later('TCP fast open is not supported'), doc: 'TCP fast open queue.' },
  'ssl-client-option-set': { kind: 'int', ...later('tsws has no client contexts'), doc: 'Client OpenSSL options.' },
  'ssl-client-option-clear': { kind: 'int', ...later('tsws has no client contexts'), doc: 'Client OpenSSL options.' },
  'tls13-ciphers': { kind: 'string', ...later('uWS.js\'s BoringSSL has no setting for them: its TLS 1.3 suites are the fixed AES-GCM and ChaCha20 set'), doc: 'TLS 1.3 ciphers.' },
  'client-tls13-ciphers': { kind: 'string', ...later('tsws has no client contexts'), doc: 'Client TLS 1.3 ciphers.' },
  'strict-host-check': { kind: 'bool', ...later('unknown Host names fall back to the first vhost of the port'), doc: 'Refuse unknown Host.' },
  'listen-accept-role': { kind: 'string', ...later('raw sockets are not supported'), doc: 'Role for accepted sockets.' },
  'listen-accept-protocol': { kind: 'string', ...later('raw sockets are not supported'), doc: 'Protocol for accepted sockets.' },
  'apply-listen-accept': { kind: 'bool', ...later('raw sockets are not supported'), doc: 'Apply listen-accept config.' },
  'fallback-listen-accept': { kind: 'bool', ...later('raw sockets are not supported'), doc: 'Fallback listen-accept.' },
  'allow-http-on-https': { kind: 'bool', ...later('uWS.js cannot serve TLS and plain HTTP on one port'), doc: 'Serve HTTP on HTTPS listener.' },
  'disable-no-protocol-ws-upgrades': { kind: 'bool', ...later('the default protocol serves upgrades naming none'), doc: 'Refuse upgrades without a protocol.' },
  'h2-half-closed-long-poll': { kind: 'bool', ...later('tsws serves HTTP/1.1 only'), doc: 'HTTP/2 long poll.' },
  'client-ecdh-curve': { kind: 'string', ...later('tsws has no client contexts'), doc: 'lws: ECDH curve of the client TLS context.' },
  dht: { kind: 'array', ...later('tsws has no DHT'), doc: 'lws: distributed hash table nodes on this vhost.' },
  'quic-mtu': { kind: 'int', ...later('tsws serves HTTP/1.1 only, no QUIC'), doc: 'lws: QUIC MTU.' },
  'quic-preferred-addresses': { kind: 'string', ...later('tsws serves HTTP/1.1 only, no QUIC'), doc: 'lws: QUIC preferred addresses.' },
};

export const MOUNT_KEYS: Readonly<Record<string, KeyDef>> = {
  mountpoint: { kind: 'string', doc: 'URL prefix; the longest one matching at a "/" boundary wins.' },
  origin: {
    kind: 'string',
    doc: 'What serves it: file://dir, cgi://script, callback://protocol, http(s)://host:port/path (proxy), >http(s)://url (redirect).',
  },
  default: { kind: 'string', default: 'index.html', doc: 'File served for a directory.' },
  'cache-max-age': { kind: 'int', default: '0', doc: 'Seconds a client may reuse a file (with cache-reuse).' },
  'cache-reuse': { kind: 'bool', default: '0', doc: 'Allow caching at all; without it files are sent "no-store".' },
  'cache-revalidate': { kind: 'bool', default: '0', doc: 'Add must-revalidate.' },
  'cache-intermediaries': { kind: 'bool', default: '0', doc: 'public (1) or private (0) caching.' },
  'cache-no': { kind: 'bool', default: '0', doc: 'Files are sent "Cache-Control: no-cache" (the client may keep them but checks with the server each time); wins over the other cache keys, as in lws.' },
  'exact-match': { kind: 'bool', default: '0', doc: 'The mount serves its mountpoint only, not the paths below it; at the same length it wins over a prefix mount.' },
  'no-ws-upgrades': { kind: 'bool', default: '0', doc: 'Websocket upgrades ignore this mount (an upgrade on a proxy mount is then given to the vhost\'s protocols, or the next mount).' },
  'keepalive-timeout': {
    kind: 'int',
    default: '0 (the server\'s)',
    doc: 'Seconds an HTTP connection may stay idle after a response of this mount, sent as "Keep-Alive: timeout=N". uWS.js closes idle connections after 10 s whatever is asked: more is cut to 10 (with a warning), less is left to the client.',
  },
  'cgi-chdir': { kind: 'string', default: 'the script\'s directory', doc: 'cgi:// mounts: the working directory of the script (lws: /tmp when not given).' },
  'cgi-chroot': { kind: 'string', ...later('the server would need to stay root to chroot each script'), doc: 'lws: chroot of the CGI child.' },
  'interceptor-path': { kind: 'string', ...later('lws JOSE interceptors are not supported'), doc: 'lws: mount to divert unauthorised requests to.' },
  'extra-mimetypes': { kind: 'map', doc: 'Extension to MIME type, e.g. {".zip": "application/zip"}.' },
  protocol: { kind: 'string', doc: 'Protocol for callback mounts (lwsws sets it from the origin too).' },
  'cgi-timeout': {
    kind: 'int',
    default: '5',
    doc: 'cgi:// mounts: seconds a script may go without any input or output progress (time the client holds it back does not count); then it is killed, and the client gets 504 if nothing was sent yet.',
  },
  'cgi-env': { kind: 'pair-list', doc: 'cgi:// mounts: extra environment variables, e.g. [{"APP_MODE": "prod"}]; they win over the CGI meta-variables.' },
  'basic-auth': {
    kind: 'string',
    doc: 'File of user:password lines (re-read when it changes); requests without a matching Authorization: Basic header get 401 with WWW-Authenticate: Basic realm="tsws".',
  },
  headers: { kind: 'pair-list', doc: 'Extra headers on every HTTP response of this mount, e.g. [{"X-Frame-Options": "DENY"}]; they win over the vhost\'s "headers".' },
  'append-path': {
    kind: 'bool',
    default: '0',
    doc: 'tsws extension for >http(s):// mounts: append the rest of the path below the mountpoint, and the query, to the redirect target (lwsws always redirects to the target as written).',
  },
  interpret: {
    kind: 'map',
    ...later('lws runs files of a suffix through a protocol\'s PROCESS_HTML callback, which tsws plugins do not have; use a callback:// mount instead'),
    doc: 'Extension to protocol that interprets it.',
  },
  'auth-mask': { kind: 'int', ...later('lws auth masks are not supported'), doc: 'lws auth mask.' },
  pmo: { kind: 'pair-list', ...later('per-mount options are planned'), doc: 'Per-mount options for callback protocols.' },
};

/** Keys of the global "cluster" object. */
export const CLUSTER_KEYS: Readonly<Record<string, KeyDef>> = {
  redis: { kind: 'string', doc: 'Redis URL, redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). Required.' },
  prefix: { kind: 'string', default: 'tsws:', doc: 'Prefix of every Redis key and channel: instances sharing it form one cluster.' },
  instance: { kind: 'string', default: '<hostname>-<pid>-<random>', doc: 'This instance\'s id, shown in status lists and logs; unique in the cluster.' },
  'unreachable-at-start': {
    kind: 'string',
    default: 'retry',
    doc: '"retry": log TSWS_ERR_CLUSTER_UNREACHABLE and retry (not listening) until Redis answers; "local": serve alone, as without "cluster", until restarted.',
  },
  'ttl-secs': { kind: 'int', default: '15', doc: 'A crashed instance\'s entries (status clients, chat members) vanish this long after its last heartbeat (sent every third of it).' },
  'max-queue': { kind: 'int', default: '10000', doc: 'Publications waiting for Redis (it is slow or away); past it they are dropped and counted. Local delivery never waits.' },
};

/** Keys of the global "metrics" object. */
export const METRICS_KEYS: Readonly<Record<string, KeyDef>> = {
  path: { kind: 'string', default: '/metrics', doc: 'Path answering the scrape (GET or HEAD).' },
  port: {
    kind: 'int',
    doc: 'Serve the metrics on a listener of their own on this port (0 picks a free one, logged at start-up), and only there; without it "path" is answered on every vhost, before any mount.',
  },
  interface: { kind: 'string', default: 'all interfaces', doc: 'With "port": the address to bind, e.g. "127.0.0.1" when the scraper runs on the same host.' },
};

export const TOP_LEVEL_KEYS: Readonly<Record<string, KeyDef>> = {
  global: { kind: 'map', doc: 'Server-wide settings (usually in conf).' },
  vhosts: { kind: 'array', doc: 'Virtual hosts (usually one file per vhost in conf.d/).' },
};
