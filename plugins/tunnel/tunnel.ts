/** @module tunnel: private nodes reached through websockets they open to this public node (see README.md). */
import { definePlugin } from '../../server/plugin/api.ts';
import { MountRequest, type RouteContext } from './http-routes.ts';
import { MAX_TUNNEL_FRAME, TunnelLink } from './link.ts';
import { NodeDirectory } from './node-ref.ts';
import { loadTokenBook } from './tokens.ts';
import { PROTOCOL } from './wire.ts';
import { upgradeVerdict } from './ws-routes.ts';

const options = {
  tokens: { type: 'string', default: '', doc: 'Node ids and the token each must present: "id:token" entries separated by commas.' },
  'tokens-file': { type: 'string', default: '', doc: 'A file of "id token" lines (# comments), read at start and at each reload; relative to the working directory.' },
  'heartbeat-secs': { type: 'int', default: 20, min: 1, max: 3600, doc: 'Agents ping at least this often; a tunnel silent for three times this is closed.' },
  'request-timeout-secs': { type: 'int', default: 30, min: 1, max: 3600, doc: 'How long a private node has to start answering a forwarded request; then 504.' },
  'window-kb': { type: 'int', default: 256, min: 64, max: 16384, doc: 'Body bytes (KiB) one forwarded request may have in flight in each direction.' },
  'max-streams': { type: 'int', default: 100, min: 1, max: 10000, doc: 'Forwarded requests and websockets one tunnel carries at once; more get 503.' },
  'ws-max-message-kb': { type: 'int', default: 4096, min: 1, max: 16384, doc: 'Largest message (KiB) of a websocket forwarded to a node, either way; larger ones close it with 1009.' },
  'message-window': { type: 'int', default: 64, min: 1, max: 4096, doc: 'Messages a node may have sent and not yet had answered (ack or nack).' },
  'max-message-bytes': { type: 'int', default: 64 * 1024, min: 1, max: 512 * 1024, doc: 'Largest message body (as JSON) a node may send.' },
  'list-nodes': { type: 'bool', default: true, doc: 'GET on the mount lists the registered node ids.' },
} as const;

/** Seconds a new tunnel has to send its hello. */
const HELLO_TIMEOUT_MS = 10_000;

export default definePlugin({
  apiVersion: 2,
  name: 'tunnel',
  protocols: (protocol) => [
    protocol({
      name: PROTOCOL,
      // For the browsers' websockets relayed to nodes (ws-max-message-kb, up to 16 MiB); a tunnel's own
      // frames are held to MAX_TUNNEL_FRAME by its link.
      maxMessageSize: Math.max(16 * 1024 * 1024, MAX_TUNNEL_FRAME),
      // Forwarded uploads are streamed under a credit window, never held whole.
      httpBodyLimit: 1024 * 1024 * 1024,
      // Upgrades under /nodes/<id>/ are relayed to the node, whatever subprotocol they ask for.
      mountUpgrades: true,
      options,
      // A bad tokens file refuses a reload as a whole: the running tunnels and their settings stay.
      check: (opts) => void loadTokenBook(opts.tokens, opts['tokens-file']),
      init(vhost, opts, previous): RouteContext {
        // A node's tunnel is a socket in one thread; a request reaching another thread could not use it.
        if (vhost.server.thread.count > 1) throw new Error('a tunnel lives in the thread that accepted it: run the tunnel protocol with count-threads 1');
        const tokens = loadTokenBook(opts.tokens, opts['tokens-file']);
        if (tokens.size === 0) vhost.log.warn('tunnel: no node ids configured (options "tokens" or "tokens-file"): every hello will be refused');
        vhost.log.info({ nodes: tokens.size }, 'tunnel: ready');
        // A reload keeps the nodes already joined, but not one whose token was removed or changed.
        const directory = previous?.directory ?? new NodeDirectory<TunnelLink>();
        if (previous) {
          const revoked = directory.revokeUnless((id) => tokens.tokenOf(id) !== undefined && tokens.tokenOf(id) === previous.tokens.tokenOf(id));
          if (revoked.length > 0) vhost.log.info({ revoked }, 'tunnel: nodes whose token the reload removed or changed were disconnected');
        }
        return {
          directory,
          tokens,
          terms: {
            heartbeatSecs: opts['heartbeat-secs'],
            window: opts['window-kb'] * 1024,
            messageWindow: opts['message-window'],
            maxMessageBytes: opts['max-message-bytes'],
            wsMaxMessage: opts['ws-max-message-kb'] * 1024,
          },
          maxMessageBytes: opts['max-message-bytes'],
          maxStreams: opts['max-streams'],
          helloTimeoutMs: HELLO_TIMEOUT_MS,
          requestTimeoutMs: opts['request-timeout-secs'] * 1000,
          listNodes: opts['list-nodes'],
          upgrades: new WeakMap(),
          log: vhost.log,
        };
      },

      // A websocket is a tunnel, or a browser's websocket the filter relayed to a node (it made the stream).
      websocket: {
        filter(req, vhost) {
          return upgradeVerdict(req, vhost.state, (ms, fn) => vhost.setTimeout(ms, fn));
        },
        connection(conn) {
          const upgrades = conn.vhost.state.upgrades;
          const ws = upgrades.get(conn.request);
          if (!ws) return new TunnelLink(conn, conn.vhost.state);
          upgrades.delete(conn.request);
          return ws.browserSide(conn);
        },
      },

      // An HTTP request under the mount: a handshake, a message, the node list, or one forwarded to a node.
      http: { transaction: (txn) => new MountRequest(txn, txn.vhost.state) },
    }),
  ],
});
