/** @module The only module that imports uWebSockets.js: builds one App per listener and forwards its events. */
import { tswsError } from '../../base/errors.ts';
import { TransportUnavailable, loadBuild, type LoadedBuild } from './build.ts';
import type * as UWS from './uws-native.ts';
import type { HttpReq, HttpRes, ListenerHandle, ListenerHandlers, SendStatus, SocketData, TlsFiles, TlsListenerOptions, Transport, UpgradeContext, WsCompression, WsHandle, WsTransportOptions } from '../types.ts';

/**
 * Loaded on first use, not at import: a host that cannot load the binary
 * (Node 24 on an old glibc) must get a coded error from the command line,
 * not a loader stack trace from an import (build.ts says why it failed).
 */
let loaded: { readonly uws: UWS.UwsNative; readonly build: LoadedBuild } | undefined;
function native(): UWS.UwsNative {
  return (loaded ??= load()).uws;
}
function load() {
  try {
    const { native: exports, build } = loadBuild();
    return { uws: exports as UWS.UwsNative, build };
  } catch (err) {
    if (err instanceof TransportUnavailable) throw tswsError('TSWS_ERR_TRANSPORT_UNAVAILABLE', err.facts, err.cause ?? err);
    throw err;
  }
}

/** The build serving this process (loads it; throws TSWS_ERR_TRANSPORT_UNAVAILABLE when it cannot): package, uWS.js release, Node ABI, file and sha256. */
export function transportBuild(): LoadedBuild {
  return (loaded ??= load()).build;
}

function appOptions(f: TlsFiles): UWS.AppOptions {
  return {
    key_file_name: f.key,
    cert_file_name: f.cert,
    ...(f.ca ? { ca_file_name: f.ca } : {}),
    ...(f.ciphers ? { ssl_ciphers: f.ciphers } : {}),
  };
}

/**
 * Plain: one App. TLS: an SSLApp whose default certificate answers clients
 * that name no known host, plus addServerName() and a domain() router per
 * name, so the handlers learn which SNI name a request came in under.
 */
export function createListener(handlers: ListenerHandlers, ws: WsTransportOptions, tls?: TlsListenerOptions): ListenerHandle {
  const uWS = native();
  const app = tls ? uWS.SSLApp(appOptions(tls.fallback)) : uWS.App();
  let listenSocket: UWS.ListenSocket | undefined;

  // Each at most once: two routes on one pattern abort the process (see routePattern).
  const compressions: readonly WsCompression[] = [...new Set<WsCompression>(['off', ...ws.compressions])];
  /** The route the first (uncompressed) route chose for the upgrade being routed: the routes run one after the other, synchronously. */
  let routed: WsCompression = 'off';
  const routeUpgrade = (req: UWS.NativeRequest, sni: string | undefined): WsCompression => {
    const want = handlers.routeUpgrade?.(req as HttpReq, sni) ?? 'off';
    return compressions.includes(want) ? want : 'off';
  };

  const routes = (router: UWS.TemplatedApp, sni: string | undefined) => {
    for (const c of compressions) router.ws<SocketData>(routePattern(c), {
      compression: compressor(uWS, c),
      maxPayloadLength: ws.maxPayloadLength,
      idleTimeout: ws.idleTimeout,
      sendPingsAutomatically: ws.idleTimeout > 0,
      maxBackpressure: ws.maxBackpressure,
      closeOnBackpressureLimit: true,
      upgrade: (res, req, context) => {
        // uWS.js negotiates permessage-deflate with the compressor of the context res.upgrade()
        // is given, and a context belongs to one route: so one route per compressor, the first
        // one (none) choosing, the others passing the upgrade on (setYield) until the right one.
        if (compressions.length > 1) {
          if (c === 'off') routed = routeUpgrade(req, sni);
          if (routed !== c) {
            req.setYield(true);
            return;
          }
          routed = 'off';
        }
        handlers.upgrade(res as unknown as HttpRes, req as HttpReq, context as unknown as UpgradeContext, sni, c);
      },
      open: (socket) => handlers.open(asHandle(socket)),
      // Handed over as is: one frame less per message. The socket is a WsHandle: uWS.js copies the
      // upgrade's userData onto it at open, and getUserData() returns the socket itself (AppWrapper.h).
      message: handlers.message as unknown as (socket: UWS.NativeWebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) => void,
      drain: (socket) => handlers.drain(asHandle(socket)),
      pong: (socket) => handlers.pong(asHandle(socket)),
      close: (socket, code, message) => handlers.close(asHandle(socket), code, message),
    });
    // The default router's handler is called as it is (its sni argument then undefined): one frame less per request.
    const http = handlers.http as unknown as (res: UWS.NativeResponse, req: UWS.NativeRequest) => void;
    router.any('/*', sni === undefined ? http : (res, req) => handlers.http(res as unknown as HttpRes, req as HttpReq, sni));
  };
  // The default router first: domain() switches where later routes attach.
  routes(app, undefined);
  for (const { name, files } of tls?.names ?? []) {
    app.addServerName(name, appOptions(files));
    routes(app.domain(name), name);
  }

  return {
    listen(host, port, shared = false) {
      return new Promise((resolve, reject) => {
        const done = (token: UWS.ListenSocket | false) => {
          if (!token) {
            reject(new Error(`the address is in use or not available (${host || '*'}:${port})`));
            return;
          }
          listenSocket = token;
          resolve(uWS.us_socket_local_port(token));
        };
        // uWS.js sets SO_REUSEPORT by default, so a port held by another
        // process would "succeed" and split the traffic. Exclusive unless the
        // caller shares the port between its own threads on purpose.
        const options = shared ? 0 : exclusivePort();
        // With host "" this build ignores the port: all interfaces need the port-only form.
        if (host) app.listen(host, port, options, done);
        else app.listen(port, options, done);
      });
    },
    listenUnix(path) {
      return new Promise((resolve, reject) => {
        app.listen_unix((token) => {
          if (!token) reject(new Error(`uWebSockets.js refused unix socket ${path}`));
          else {
            listenSocket = token;
            resolve();
          }
        }, path);
      });
    },
    stopListening() {
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
    },
    closeAll() {
      listenSocket = undefined;
      app.close();
    },
  };
}

/**
 * Every route matches every path: uWS.js's router treats any segment that
 * starts with "*" as a wildcard (HttpRouter.h executeHandlers), while a
 * second route on the same pattern would replace the first (v20.67) or abort
 * the process (v20.51). Routes of equal rank run in the order registered.
 */
function routePattern(c: WsCompression): string {
  return c === 'off' ? '/*' : `/*permessage-deflate-${c}`;
}

/**
 * The context's compressor. Alone, a compressor constant means uWS.js's
 * shared decompressor: it answers client_no_context_takeover, so inbound
 * messages hold nothing per connection (see WS_COMPRESSIONS).
 */
function compressor(uWS: UWS.UwsNative, c: WsCompression): number {
  switch (c) {
    case 'off': return uWS.DISABLED;
    case 'shared': return uWS.SHARED_COMPRESSOR;
    case 'dedicated-3k': return uWS.DEDICATED_COMPRESSOR_3KB;
    case 'dedicated-4k': return uWS.DEDICATED_COMPRESSOR_4KB;
    case 'dedicated-8k': return uWS.DEDICATED_COMPRESSOR_8KB;
    case 'dedicated-16k': return uWS.DEDICATED_COMPRESSOR_16KB;
    case 'dedicated-32k': return uWS.DEDICATED_COMPRESSOR_32KB;
    case 'dedicated-64k': return uWS.DEDICATED_COMPRESSOR_64KB;
    case 'dedicated-128k': return uWS.DEDICATED_COMPRESSOR_128KB;
    case 'dedicated-256k': return uWS.DEDICATED_COMPRESSOR_256KB;
    default: {
      const never: never = c;
      throw new Error(`unknown compression ${String(never)}`);
    }
  }
}

/** uWS.js's WebSocket::SendStatus (src/WebSocket.h): BACKPRESSURE 0, SUCCESS 1, DROPPED 2, by name. */
const SEND_OUTCOMES: readonly SendStatus[] = Object.freeze(['backpressure', 'sent', 'dropped']);

/** uWebSockets.js as the framework's Transport. */
export const uwsTransport: Transport = { createListener, sendOutcomes: SEND_OUTCOMES };

/** A uWS.js socket carries its upgrade's userData as its own properties (see WsHandle). */
const asHandle = (socket: UWS.NativeWebSocket<SocketData>) => socket as unknown as WsHandle;

const exclusivePort = () => native().LIBUS_LISTEN_EXCLUSIVE_PORT;

/** Splits a multipart/form-data body (used by HTTP plugins). */
export function getParts(body: Uint8Array | ArrayBuffer, contentType: string): UWS.MultipartField[] | undefined {
  return native().getParts(body, contentType);
}
