/** @module The only module that imports uWebSockets.js: builds one App per listener and forwards its events. */
import uWS from 'uWebSockets.js';
import type { HttpReq, HttpRes, ListenerHandle, ListenerHandlers, SocketData, TlsFiles, TlsListenerOptions, UpgradeContext, WsHandle, WsTransportOptions } from '../types.ts';

function appOptions(f: TlsFiles): uWS.AppOptions {
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
  const app = tls ? uWS.SSLApp(appOptions(tls.fallback)) : uWS.App();
  let listenSocket: uWS.us_listen_socket | undefined;

  const routes = (router: uWS.TemplatedApp, sni: string | undefined) => {
    router.ws<SocketData>('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: ws.maxPayloadLength,
      idleTimeout: ws.idleTimeout,
      sendPingsAutomatically: ws.idleTimeout > 0,
      maxBackpressure: ws.maxBackpressure,
      // A number in this build's typings, a flag in its code.
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => handlers.upgrade(res as unknown as HttpRes, req as HttpReq, context as unknown as UpgradeContext, sni),
      open: (socket) => handlers.open(asHandle(socket)),
      // Handed over as is: one frame less per message. The socket is a WsHandle: uWS.js copies the
      // upgrade's userData onto it at open, and getUserData() returns the socket itself (AppWrapper.h).
      message: handlers.message as unknown as (socket: uWS.WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) => void,
      drain: (socket) => handlers.drain(asHandle(socket)),
      close: (socket, code, message) => handlers.close(asHandle(socket), code, message),
    });
    router.any('/*', (res, req) => handlers.http(res as unknown as HttpRes, req as HttpReq, sni));
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
        const done = (token: uWS.us_listen_socket | false) => {
          if (!token) {
            reject(new Error(`the address is in use or not available (${host || '*'}:${port})`));
            return;
          }
          listenSocket = token;
          resolve(uWS.us_socket_local_port(token as unknown as uWS.us_socket));
        };
        // uWS.js sets SO_REUSEPORT by default, so a port held by another
        // process would "succeed" and split the traffic. Exclusive unless the
        // caller shares the port between its own threads on purpose.
        const options = shared ? 0 : LISTEN_EXCLUSIVE_PORT;
        // With host "" this build ignores the port: all interfaces need the port-only form.
        if (host) listenWithOptions(app, host, port, options, done);
        else app.listen(port, options as uWS.ListenOptions, done);
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

/** A uWS.js socket carries its upgrade's userData as its own properties (see WsHandle). */
const asHandle = (socket: uWS.WebSocket<SocketData>) => socket as unknown as WsHandle;

/** LIBUS_LISTEN_EXCLUSIVE_PORT: exported by the binary, missing from its typings. */
const LISTEN_EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;

/** listen(host, port, options, cb): present in the binary, missing from its index.d.ts. */
type ListenWithOptions = (host: string, port: number, options: number, cb: (token: uWS.us_listen_socket | false) => void) => uWS.TemplatedApp;
function listenWithOptions(app: uWS.TemplatedApp, host: string, port: number, options: number, cb: (token: uWS.us_listen_socket | false) => void): void {
  (app.listen as unknown as ListenWithOptions).call(app, host, port, options, cb);
}

/** Splits a multipart/form-data body (used by HTTP plugins). */
export const getParts = uWS.getParts;
