/** @module The one registry of coded errors and warnings: every failure tsws reports carries a code from here. */
import { error, warning, type Entry } from './error-entry.ts';
import { CHANNEL_FRAME_ERRORS } from './errors-channel-frames.ts';
import { AUTH_ERRORS } from './errors-auth.ts';
import { CLIENT_ERRORS } from './errors-client.ts';
import { CLUSTER_ERRORS } from './errors-cluster.ts';
import { MOUNT_ERRORS } from './errors-mounts.ts';
import { CHANNEL_ERRORS } from './errors-channels.ts';
import { TESTING_ERRORS } from './errors-testing.ts';
import { INIT_ERRORS } from './errors-init.ts';

type Where = { where: string };
const suggest = (s?: string) => (s ? ` Did you mean "${s}"?` : '');

/**
 * Each entry says what went wrong (built from the params, which always include
 * where: a config file:line:col, or a plugin and protocol name) and what to do
 * about it (the hint). Codes are never renamed or reused once released.
 * docs/reference/errors.md is generated from this table (npm run docs) and a test
 * keeps the two in step.
 */
export const REGISTRY = {
  // ---- command line -------------------------------------------------------
  TSWS_ERR_CLI_USAGE: error<{ detail: string }>(
    (p) => `bad command line: ${p.detail}`,
    'Run `tsws --help` for the options.'),

  // ---- configuration files ------------------------------------------------
  TSWS_ERR_CONFIG_DIR: error<{ dir: string; reason: string }>(
    (p) => `cannot use config directory ${p.dir}: ${p.reason}`,
    'Pass the directory that holds `conf` and `conf.d/` with -c.'),
  TSWS_ERR_CONFIG_READ: error<{ file: string; reason: string }>(
    (p) => `cannot read ${p.file}: ${p.reason}`,
    'Check that the file exists and is readable by the server user.'),
  TSWS_ERR_CONFIG_SYNTAX: error<Where & { detail: string }>(
    (p) => `${p.where}: syntax error: ${p.detail}`,
    'lwsws config is JSON with `#` comments (JSON5 also accepted); fix the text at that position.'),
  TSWS_ERR_CONFIG_UNKNOWN_KEY: error<Where & { key: string; block: string; suggestion?: string }>(
    (p) => `${p.where}: unknown ${p.block} key "${p.key}".${suggest(p.suggestion)}`,
    'Fix the spelling or remove the key; docs/reference/configuration.md lists every key.'),
  TSWS_ERR_CONFIG_TYPE: error<Where & { key: string; expected: string; got: string }>(
    (p) => `${p.where}: "${p.key}" must be ${p.expected}, got ${p.got}`,
    'Change the value to the expected type (lwsws strings such as "7681" or "on" are fine).'),
  TSWS_ERR_CONFIG_MISSING_KEY: error<Where & { key: string; block: string }>(
    (p) => `${p.where}: ${p.block} needs "${p.key}"`,
    'Add the key; docs/reference/configuration.md lists the keys of each block.'),
  TSWS_ERR_CONFIG_VALUE: error<Where & { key: string; detail: string }>(
    (p) => `${p.where}: bad "${p.key}": ${p.detail}`,
    'Correct the value as described.'),
  TSWS_ERR_CONFIG_NO_VHOSTS: error<{ dir: string }>(
    (p) => `no vhosts configured in ${p.dir}/conf or ${p.dir}/conf.d/`,
    'Add a file to conf.d/ holding a "vhosts" array (see conf.d/localhost in the repo).'),
  TSWS_ERR_CONFIG_DUPLICATE_VHOST: error<Where & { name: string; listener: string; first: string }>(
    (p) => `${p.where}: vhost "${p.name}" on ${p.listener} is already defined at ${p.first}`,
    'Give each vhost on a listener its own name.'),
  TSWS_ERR_CONFIG_LISTENER_CONFLICT: error<Where & { port: number; a: string; b: string }>(
    (p) => `${p.where}: port ${p.port} is bound both on ${p.a} and on ${p.b}`,
    'Vhosts sharing a port must share its interface: give them the same "interface", or different ports.'),
  TSWS_ERR_CONFIG_TLS_MIX: error<Where & { listener: string; tls: string; plain: string }>(
    (p) => `${p.where}: ${p.listener} would serve TLS vhost "${p.tls}" and plain vhost "${p.plain}"; one listening socket is either TLS or plain`,
    'Give the plain vhost its own port (with "redirect-http": "1" it can send its visitors to https).'),
  TSWS_WARN_CONFIG_NOT_IMPLEMENTED: warning<Where & { key: string; note: string }>(
    (p) => `${p.where}: "${p.key}" is a known lwsws key that tsws does not implement (${p.note}); it has no effect`,
    'Remove it to silence this warning, or see docs/reference/configuration.md for the supported keys.'),
  TSWS_WARN_MOUNT_KEEPALIVE_CUT: warning<Where & { asked: number; limit: number }>(
    (p) => `${p.where}: "keepalive-timeout" ${p.asked} s is longer than uWS.js keeps an idle connection (${p.limit} s); ${p.limit} s is advertised`,
    'Use a value up to that, or 0 for the server\'s own.'),
  TSWS_WARN_CONFIG_WRONG_PLACE: warning<Where & { key: string; block: string; belongs: string }>(
    (p) => `${p.where}: "${p.key}" belongs in ${p.belongs}, not in ${p.block}; it has no effect here`,
    'Move the key to the block where it belongs.'),
  TSWS_WARN_CONFIG_DUPLICATE_KEY: warning<Where & { key: string; first: string }>(
    (p) => `${p.where}: "${p.key}" repeats the key at ${p.first}; this later one wins`,
    'Keep only one of them.'),
  TSWS_WARN_MOUNT_ORIGIN_MISSING: warning<Where & { path: string }>(
    (p) => `${p.where}: mount origin ${p.path} does not exist; requests under it will get 404`,
    'Create the directory or fix the origin (`_lws_ddir_` expands to --data-dir).'),
  TSWS_WARN_MOUNT_NOT_IMPLEMENTED: warning<Where & { origin: string }>(
    (p) => `${p.where}: mount origin "${p.origin}" is not implemented yet; requests under it will get 501`,
    'Use a file:// mount meanwhile; docs/reference/mounts.md lists the supported origins.'),

  TSWS_ERR_PRIV_UNKNOWN: error<{ kind: 'user' | 'group'; name: string }>(
    (p) => `the ${p.kind} "${p.name}" to drop privileges to does not exist on this machine`,
    'Create it, or fix "username"/"groupname" (or "uid"/"gid") in the global conf.'),
  TSWS_WARN_PRIV_CHECK: warning<{ detail: string }>(
    (p) => `privilege drop: ${p.detail}; starting on this machine would fail`,
    'Fine if this config is meant for another machine (a container image, say) where it exists.'),
  TSWS_WARN_PRIV_NOT_ROOT: warning<{ uid: number; wanted: number }>(
    (p) => `not running as root (uid ${p.uid}): cannot drop to uid ${p.wanted}; continuing as uid ${p.uid}`,
    'Start as root for the drop to happen, or remove uid/username from the global conf (a container usually runs unprivileged already).'),
  TSWS_ERR_TLS_FILE: error<Where & { vhost: string; file: string; reason: string }>(
    (p) => `${p.where}: vhost "${p.vhost}": cannot use TLS file ${p.file}: ${p.reason}`,
    'Fix the path or the file, or set "ignore-missing-cert": "1" to skip this vhost instead of stopping.'),
  TSWS_WARN_TLS_VHOST_SKIPPED: warning<Where & { vhost: string; file: string; reason: string }>(
    (p) => `${p.where}: vhost "${p.vhost}" skipped: TLS file ${p.file}: ${p.reason} (ignore-missing-cert)`,
    'Provide the file and restart to serve this vhost.'),

  // ---- plugins ------------------------------------------------------------
  TSWS_ERR_PLUGIN_DIR: error<{ dir: string; reason: string }>(
    (p) => `cannot read plugin directory ${p.dir}: ${p.reason}`,
    'Fix the "plugin-dir" entry in the global conf, or create the directory.'),
  TSWS_ERR_PLUGIN_IMPORT: error<{ file: string; reason: string }>(
    (p) => `plugin ${p.file} cannot be imported: ${p.reason}`,
    'Fix the syntax or the missing import; run `npx tsws -c <dir> --check` to retry without serving.'),
  TSWS_ERR_PLUGIN_NO_DEFAULT_EXPORT: error<{ file: string }>(
    (p) => `plugin ${p.file} has no default export`,
    'End the file with `export default definePlugin({ apiVersion: 2, protocols: (protocol) => [...] })`.'),
  TSWS_ERR_PLUGIN_API_VERSION: error<{ file: string; got: string; expected: string }>(
    (p) => `plugin ${p.file} declares apiVersion ${p.got}; this server loads apiVersion ${p.expected}`,
    'Write the plugin to the plugin API described in docs/reference/plugin-api.md (apiVersion 2); apiVersion 1 plugins still load as they are.'),
  TSWS_ERR_PLUGIN_DESCRIPTOR: error<{ file: string; detail: string }>(
    (p) => `plugin ${p.file} has a malformed descriptor: ${p.detail}`,
    'Build the default export with definePlugin()/defineProtocol() so the types catch this.'),
  TSWS_ERR_PLUGIN_UNKNOWN_CALLBACK: error<{ file: string; protocol: string; name: string; suggestion?: string }>(
    (p) => `plugin ${p.file}, protocol "${p.protocol}": unknown callback "${p.name}".${suggest(p.suggestion)}`,
    'Callback names are listed in docs/reference/plugin-api.md ("The callback state machine").'),
  TSWS_ERR_PLUGIN_CALLBACK_NOT_FUNCTION: error<{ file: string; protocol: string; name: string; got: string }>(
    (p) => `plugin ${p.file}, protocol "${p.protocol}": callback "${p.name}" is ${p.got}, not a function`,
    'Make the callback a function or remove it.'),
  TSWS_ERR_PLUGIN_MIXED_FORMS: error<{ file: string; protocol: string; part: string; maker: string; beside: string }>(
    (p) => `plugin ${p.file}, protocol "${p.protocol}": its ${p.part} part has "${p.maker}" and also ${p.beside}: the callbacks of a ${p.part} part are the methods of the object "${p.maker}" makes, or a table, not both`,
    'Move the table\'s callbacks into the object as methods (without their first argument), or drop the maker and keep the table with its "session".'),
  TSWS_ERR_PLUGIN_DUPLICATE_PROTOCOL: error<{ file: string; protocol: string; first: string }>(
    (p) => `plugin ${p.file} defines protocol "${p.protocol}", already defined by ${p.first}`,
    'Protocol names are global: rename one of them.'),
  TSWS_WARN_PLUGIN_RX_BUFFER_UNUSED: warning<{ file: string; protocol: string }>(
    (p) => `plugin ${p.file}, protocol "${p.protocol}": "rxBufferSize" has no effect without "receiveFragments" (receive gets whole messages)`,
    'rxBufferSize is lws\'s receive piece size: add "receiveFragments: true" to get messages in such pieces, or drop it; to limit message size, use "maxMessageSize".'),
  TSWS_ERR_PLUGIN_INIT_FAILED: error<{ vhost: string; protocol: string; reason: string }>(
    (p) => `vhost "${p.vhost}", protocol "${p.protocol}": init threw (${p.reason}); the protocol is disabled on this vhost`,
    'Fix the plugin\'s init (see the stack in this log line). At a reload the rest of the server keeps serving; at start, start-up stops (TSWS_ERR_START_PROTOCOLS_DISABLED).'),
  TSWS_ERR_PLUGIN_STATE_FAILED: error<{ vhost: string; plugin: string; callback: string; reason: string }>(
    (p) => `vhost "${p.vhost}", plugin "${p.plugin}": the plugin's own ${p.callback} threw (${p.reason})${p.callback === 'init' ? '; its protocols are disabled on this vhost' : ''}`,
    'Fix the plugin\'s init, destroy or timer (see the stack in this log line). A failed init disables every protocol of the plugin on that vhost: at a reload the rest keeps serving; at start, start-up stops (TSWS_ERR_START_PROTOCOLS_DISABLED).'),
  TSWS_ERR_PLUGIN_CHECK_FAILED: error<{ vhost: string; protocol: string; reason: string }>(
    (p) => `vhost "${p.vhost}", protocol "${p.protocol}": cannot start here: ${p.reason}`,
    'Fix what the reason names; the plugin\'s check runs at --check, at start and at reload.'),
  TSWS_ERR_START_PROTOCOLS_DISABLED: error<{ count: number; list: string }>(
    (p) => `not starting: ${p.count} protocol(s) failed their init (${p.list})`,
    'A protocol whose init fails at start stops start-up, as in lws: fix what each reason names. At a reload such a protocol is disabled and the rest keeps serving.'),
  TSWS_ERR_FILE_LOCKED: error<{ file: string; lock: string; pid: number }>(
    (p) => `${p.file} is in use by process ${p.pid} (lock file ${p.lock})`,
    'Another server writes this file: stop it, or give this one a directory of its own. A lock left by a process that is gone is taken over by itself.'),
  TSWS_ERR_FILE_LOCK_IO: error<{ lock: string; reason: string }>(
    (p) => `cannot take the lock ${p.lock}: ${p.reason}`,
    'Check that the directory is writable by the server user.'),
  TSWS_ERR_PLUGIN_CALLBACK_THREW: error<{ vhost: string; protocol: string; callback: string; reason: string }>(
    (p) => `vhost "${p.vhost}", protocol "${p.protocol}": ${p.callback} threw (${p.reason}); only what it ran for was ended (a websocket with 1011, an HTTP request with 500 or cut, an upgrade refused with 500)`,
    'Fix the plugin (see the stack in this log line); other connections were not affected.',
    { closeCode: 1011, httpStatus: 500 }),
  TSWS_ERR_PLUGIN_TIMER_THREW: error<{ vhost: string; protocol: string; reason: string }>(
    (p) => `vhost "${p.vhost}", protocol "${p.protocol}": a timer callback threw (${p.reason})`,
    'Fix the plugin\'s timer callback; the timer keeps its schedule.'),
  TSWS_ERR_PLUGIN_DESTROY_FAILED: error<{ vhost: string; protocol: string; reason: string }>(
    (p) => `vhost "${p.vhost}", protocol "${p.protocol}": destroy threw (${p.reason})`,
    'Fix the plugin\'s destroy callback; shutdown continued.'),
  TSWS_WARN_PROTOCOL_NOT_FOUND: warning<Where & { protocol: string; vhost: string; known: string }>(
    (p) => `${p.where}: vhost "${p.vhost}" enables protocol "${p.protocol}" but no plugin provides it (available: ${p.known})`,
    'Drop a plugin providing it into plugins/, or remove it from "ws-protocols".'),
  TSWS_WARN_PROTOCOL_OPTION_UNKNOWN: warning<Where & { protocol: string; option: string; suggestion?: string }>(
    (p) => `${p.where}: protocol "${p.protocol}" has no option "${p.option}"; it is passed through unused.${suggest(p.suggestion)}`,
    'See the plugin\'s README for its options table.'),
  TSWS_ERR_PROTOCOL_OPTION_TYPE: error<Where & { protocol: string; option: string; expected: string; got: string }>(
    (p) => `${p.where}: protocol "${p.protocol}" option "${p.option}" must be ${p.expected}, got ${p.got}`,
    'See the plugin\'s README for its options table.'),
  TSWS_ERR_PLUGIN_TYPE: error<Where & { ts: string; detail: string }>(
    (p) => `${p.where}: type error ${p.ts}: ${p.detail}`,
    'Fix the code (or tsconfig.json) where named: an editor shows the same error. --check type-checks TypeScript plugins with the nearest tsconfig.json, as tsc would.'),
  TSWS_WARN_PLUGIN_TYPECHECK_SKIPPED: warning<{ reason: string }>(
    (p) => `TypeScript plugins were not type-checked: ${p.reason}`,
    'Install typescript where --check runs (npm install --save-dev typescript: a project made by tsws init has it).'),

  // ---- tsws as a dependency: started from code, tsws init ------------------
  TSWS_ERR_CONFIG_INVALID: error<{ source: string; count: number; list: string }>(
    (p) => `not serving ${p.source}: ${p.count} error(s): ${p.list}`,
    'Fix each error named (each carries its own code); `npx tsws -c <dir> --check` lists them too.'),
  TSWS_WARN_EMBEDDED_ONE_THREAD: warning<{ threads: number }>(
    (p) => `count-threads is ${p.threads}, but a server started from code serves in the calling thread only (and without the watchdog)`,
    'Run the tsws command for worker threads and the watchdog; from code, start one server per thread yourself if you need more.'),
  TSWS_ERR_INIT_EXISTS: error<{ dir: string; files: string }>(
    (p) => `tsws init: ${p.dir} already has ${p.files}; nothing was written`,
    'Run init in a new or empty directory (a package.json of its own is fine: init adds to it), or move those files aside.'),
  ...INIT_ERRORS,
  ...TESTING_ERRORS,

  // ---- connections and writes --------------------------------------------
  TSWS_ERR_BACK_TO_BACK_WRITE: error<{ protocol: string }>(
    (p) => `Illegal back-to-back write: protocol "${p.protocol}" wrote twice in one writable callback`,
    'Write once per writable; call conn.requestWritable() and write the rest in the next writable.',
    { closeCode: 1011 }),
  TSWS_ERR_WRITE_OUTSIDE_WRITABLE: error<{ protocol: string; callback: string }>(
    (p) => `protocol "${p.protocol}" wrote from ${p.callback}; writes are only allowed inside the writable callback`,
    'Queue the data in the session state, call conn.requestWritable(), and write it from writable.',
    { closeCode: 1011 }),
  TSWS_ERR_WRITE_AFTER_CLOSE: error<{ protocol: string }>(
    (p) => `protocol "${p.protocol}" wrote to a connection it had already closed`,
    'Do not write after conn.close().'),
  TSWS_ERR_BAD_CLOSE_CODE: error<{ protocol: string; code: string; reason: string }>(
    (p) => `protocol "${p.protocol}" closed with an invalid code or reason (${p.code}: ${p.reason})`,
    'Use 1000-1003, 1007-1014 or 3000-4999, and a reason of at most 123 UTF-8 bytes.'),
  TSWS_ERR_MESSAGE_TOO_BIG: error<{ protocol: string; size: number; limit: number }>(
    (p) => `protocol "${p.protocol}": received a ${p.size}-byte message, over its ${p.limit}-byte limit`,
    'If such messages are legitimate, raise "ws-max-message-size" (vhost or global) or the protocol\'s maxMessageSize, whichever is lower.',
    { closeCode: 1009 }),
  TSWS_ERR_RATE_LIMITED: error<{ protocol: string; peer: string }>(
    (p) => `protocol "${p.protocol}": ${p.peer} sent faster than its rateLimit allows; closed with 1008`,
    'Send less often, or raise the protocol\'s rateLimit if the rate is legitimate.',
    { closeCode: 1008 }),
  TSWS_ERR_WS_PEER_SILENT: error<{ peer: string; secs: number }>(
    (p) => `a websocket from ${p.peer} sent no whole message and no pong for ${p.secs} s after a ping (a message stalled mid-frame, or a peer gone); cut without a close frame`,
    'Nothing to do for a peer that stalled or vanished. If legitimate messages take longer than "ws-message-timeout-secs" to arrive (large ones over slow links), raise it.'),
  TSWS_ERR_SLOW_CONSUMER: error<{ protocol: string; pending: number }>(
    (p) => `protocol "${p.protocol}": the client fell ${p.pending} published messages behind`,
    'The client reads too slowly for this stream; raise the protocol\'s inbox limits if it is legitimate.',
    { closeCode: 1008 }),

  // ---- listeners and requests --------------------------------------------
  TSWS_ERR_LISTEN: error<Where & { address: string; reason: string }>(
    (p) => `${p.where}: cannot listen on ${p.address}: ${p.reason}`,
    'Another process may hold the port, or the address is not on this machine; change "port"/"interface".'),
  TSWS_ERR_TRANSPORT_UNAVAILABLE: error<{ node: string; glibcFound: string; glibcNeeded: string; build: string; reason: string }>(
    (p) => `uWebSockets.js cannot load on Node ${p.node} here (glibc ${p.glibcFound} found, ${p.glibcNeeded} needed by ${p.build}): ${p.reason}`,
    'Run the container (Node 24 on Debian 13), or move to an OS with glibc 2.38 or later (Debian 13, Ubuntu 24.04), or on a Debian 12 / Ubuntu 22.04 host use Node 20 (the legacy runtime, end of life since April 2026). docs/reference/transport.md lists the builds.'),
  TSWS_WARN_LEGACY_RUNTIME: warning<{ node: string }>(
    (p) => `running on Node ${p.node}, the legacy runtime: Node 20 reached end of life on 2026-04-30 and gets no security fixes`,
    'Serve from Node 24 LTS (the container, or a host with glibc 2.38 or later); Node 20 stays only for Debian 12 / Ubuntu 22.04 hosts until they move on.'),
  TSWS_WARN_FD_HIGH: warning<{ open: number; limit: number; resumeAt: number }>(
    (p) => `${p.open} files open of the limit of ${p.limit}: stopped accepting connections until fewer than ${p.resumeAt} are open`,
    'Raise the open-file limit (ulimit -n, LimitNOFILE, the ECS task\'s nofile), lower ip-limit-wsi, or add instances; tsws_accept_paused_total counts these pauses.'),
  TSWS_ERR_THREAD: error<{ what: string; reason: string }>(
    (p) => `count-threads: ${p.what}: ${p.reason}`,
    'The thread\'s own log lines (with "thread": n) say more; with count-threads 1 the same configuration shows the error directly.'),
  TSWS_ERR_WATCHDOG_INTERRUPTED: error<{ thread: number; ms: number; vhost: string; plugin: string; protocol: string; callback: string }>(
    (p) => `watchdog: thread ${p.thread} was held over ${p.ms} ms by callback "${p.callback}" of protocol "${p.protocol}" (plugin ${p.plugin}) on vhost "${p.vhost}": interrupted, serving again`,
    'That callback never returned (an endless loop, or a long synchronous job): fix it, or move the work off the event loop.'),
  TSWS_ERR_INTERFACE_UNKNOWN: error<Where & { name: string; known: string }>(
    (p) => `${p.where}: network interface "${p.name}" not found (this machine has: ${p.known})`,
    'Use an interface name from that list, or an IP address.'),
  TSWS_ERR_UPGRADE_PROTOCOL_UNKNOWN: error<{ vhost: string; requested: string; offered: string }>(
    (p) => `vhost "${p.vhost}" does not offer any of the requested protocols "${p.requested}" (offers: ${p.offered})`,
    'Ask for a protocol listed in the vhost\'s "ws-protocols".',
    { httpStatus: 400 }),
  TSWS_ERR_UPGRADE_NO_PROTOCOL: error<{ vhost: string }>(
    (p) => `vhost "${p.vhost}" has no websocket protocols enabled`,
    'Enable a protocol in the vhost\'s "ws-protocols".',
    { httpStatus: 400 }),
  TSWS_ERR_UPGRADE_BAD_HANDSHAKE: error<{ vhost: string; uri: string; detail: string }>(
    (p) => `vhost "${p.vhost}": refused a websocket upgrade of ${p.uri}: ${p.detail}`,
    'A websocket client sends GET with Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key of 16 random bytes in base64 (RFC 6455 4.1).',
    { httpStatus: 400 }),
  TSWS_ERR_HTTP_BAD_PATH: error<{ path: string; detail: string }>(
    (p) => `refused request path ${JSON.stringify(p.path)}: ${p.detail}`,
    'Request a normal absolute path.',
    { httpStatus: 400 }),
  TSWS_ERR_HTTP_WRITE_ORDER: error<{ protocol: string; detail: string }>(
    (p) => `protocol "${p.protocol}": ${p.detail}`,
    'Write the status and headers first (writeHead), then body chunks (write), and end with end() or writeHead(..., { end: true }).',
    { closeCode: 1011, httpStatus: 500 }),
  TSWS_ERR_HTTP_BAD_HEADER: error<{ protocol: string; name: string; detail: string }>(
    (p) => `protocol "${p.protocol}": response header ${JSON.stringify(p.name.slice(0, 80))} refused: ${p.detail}; the request was answered 500 and nothing of the head was sent`,
    'A header name is an RFC 9110 token (letters, digits and !#$%&\'*+-.^_`|~) and a value holds no CR, LF or NUL: written as they are, they would add headers or a whole response of their own. Check where the plugin takes the header from (an upstream, a client, a node), and drop or encode what does not fit.',
    { closeCode: 1011, httpStatus: 500 }),
  TSWS_ERR_HTTP_LENGTH_MISMATCH: error<{ protocol: string; declared: number; sent: number }>(
    (p) => `protocol "${p.protocol}" declared Content-Length ${p.declared} but its body came to ${p.sent} bytes; the connection was closed`,
    'Send exactly the declared number of bytes, or leave Content-Length out to send the body chunked.'),
  TSWS_ERR_HTTP_PROTOCOL_UNAVAILABLE: error<{ vhost: string; protocol: string }>(
    (p) => `vhost "${p.vhost}": callback mount protocol "${p.protocol}" is not available (no plugin provides it, or its init failed)`,
    'Check the start-up log for the protocol, and that a plugin provides it.',
    { httpStatus: 503 }),
  TSWS_ERR_HTTP_BODY_TOO_LARGE: error<{ vhost: string; limit: number }>(
    (p) => `vhost "${p.vhost}": request body over the ${p.limit}-byte limit refused`,
    'Send a smaller body; the limit is the protocol\'s httpBodyLimit on callback:// mounts, 1 MiB on cgi:// and proxy mounts.',
    { httpStatus: 413 }),
  TSWS_ERR_CONFIG_MOUNT_PROTOCOL: error<Where & { protocol: string; vhost: string }>(
    (p) => `${p.where}: callback mount uses protocol "${p.protocol}", which vhost "${p.vhost}" does not enable in "ws-protocols"`,
    'Add the protocol to this vhost\'s "ws-protocols" (its options reach init there).'),
  TSWS_WARN_MOUNT_PROTOCOL_MISSING: warning<Where & { protocol: string }>(
    (p) => `${p.where}: callback mount uses protocol "${p.protocol}", which no loaded plugin provides; requests under it will get 503`,
    'Drop a plugin providing it into plugins/.'),
  TSWS_ERR_HTTP_MISDIRECTED: error<{ host: string; sni: string }>(
    (p) => `the Host header "${p.host}" does not match the TLS server name "${p.sni}" this connection was made for`,
    'Connect with the server name of the host you ask for (SNI), or open a new connection for it.',
    { httpStatus: 421 }),
  TSWS_ERR_HTTP_AGENT_REFUSED: error<{ agent: string }>(
    (p) => `refused user agent "${p.agent}" (reject-service-keywords)`,
    'Remove the keyword from "reject-service-keywords" in the global conf if this client is legitimate.'),
  TSWS_ERR_UPGRADE_ORIGIN: error<{ vhost: string; origin: string }>(
    (p) => `vhost "${p.vhost}" does not let pages from ${p.origin} open websockets ("ws-origins")`,
    'Add the origin to the vhost\'s "ws-origins" if it is yours.',
    { httpStatus: 403 }),
  TSWS_ERR_UPGRADE_IP_LIMIT: error<{ peer: string; limit: number }>(
    (p) => `${p.peer} already holds ${p.limit} websockets (ip-limit-wsi)`,
    'Close some connections first; the limit is "ip-limit-wsi" in the global conf.',
    { httpStatus: 503 }),
  TSWS_ERR_HTTP_NOT_IMPLEMENTED: error<{ vhost: string; origin: string }>(
    (p) => `vhost "${p.vhost}": mount origin "${p.origin}" is not implemented yet`,
    'See docs/reference/mounts.md for the supported mount origins.',
    { httpStatus: 501 }),
  TSWS_ERR_ACCESS_LOG: error<{ file: string; reason: string }>(
    (p) => `cannot open access log ${p.file}: ${p.reason}`,
    'Create its directory or fix "access-log"; the log is opened before privileges are dropped.'),
  TSWS_ERR_FILE_READ: error<{ file: string; reason: string }>(
    (p) => `cannot read ${p.file}: ${p.reason}`,
    'Check the file\'s permissions.',
    { httpStatus: 500 }),
  TSWS_ERR_HTTP_BAD_BODY_HEADERS: error<{ vhost: string; uri: string; detail: string }>(
    (p) => `vhost "${p.vhost}": request for ${p.uri} refused: ${p.detail}`,
    'Send one Content-Length, or Transfer-Encoding: chunked, never both or two different lengths.',
    { httpStatus: 400 }),
  TSWS_ERR_HTTP_CONNECT_REFUSED: error<{ vhost: string; target: string }>(
    (p) => `vhost "${p.vhost}": CONNECT ${p.target} refused: tsws opens no tunnels`,
    'Proxy mounts forward HTTP requests and websocket upgrades only; point a CONNECT proxy (a forward proxy) elsewhere.',
    { httpStatus: 501 }),

  TSWS_ERR_METRICS_RENDER: error<{ reason: string }>(
    (p) => `cannot render the metrics: ${p.reason}`,
    'A bug in tsws\'s metrics collection: report it with this log line; the scrape got 500 and serving goes on.',
    { httpStatus: 500 }),

  // ---- cgi, proxy and redirect mounts, basic auth -------------------------
  ...MOUNT_ERRORS,

  // ---- client connections a plugin opens (vhost.connect) -------------------
  ...CLIENT_ERRORS,

  // ---- cluster (several instances through Redis) ---------------------------
  ...CLUSTER_ERRORS,

  // ---- channels (vhost.channels) and their wire frames ----------------------
  ...CHANNEL_ERRORS,
  ...CHANNEL_FRAME_ERRORS,
  // ---- token auth and the shared rate limits ---------------------------------
  ...AUTH_ERRORS,
} as const;

export type ErrorCode = keyof typeof REGISTRY;
export type ErrorParams<C extends ErrorCode> = (typeof REGISTRY)[C] extends Entry<infer P> ? P : never;

/** The one error class: `code` says which entry, `message` says what/where/what to do. */
export class TswsError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly severity: 'error' | 'warning';
  readonly hint: string;
  readonly closeCode: number | undefined;
  readonly httpStatus: number | undefined;
  /** The message without the hint, for places that print the hint separately. */
  readonly detail: string;

  constructor(code: C, params: ErrorParams<C>, options?: { cause?: unknown }) {
    const entry = REGISTRY[code] as Entry<ErrorParams<C>>;
    const detail = entry.message(params);
    super(`${detail}${/[.?!]$/.test(detail) ? '' : '.'} ${entry.hint}`, options);
    this.name = 'TswsError';
    this.code = code;
    this.severity = entry.severity;
    this.hint = entry.hint;
    this.detail = detail;
    this.closeCode = entry.closeCode;
    this.httpStatus = entry.httpStatus;
  }
}

export function tswsError<C extends ErrorCode>(code: C, params: ErrorParams<C>, cause?: unknown): TswsError<C> {
  return new TswsError(code, params, cause === undefined ? undefined : { cause });
}

export function isTswsError(err: unknown, code?: ErrorCode): err is TswsError {
  return err instanceof TswsError && (code === undefined || err.code === code);
}

/** A short text for a thrown value of unknown type, for the `reason` params. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
