/** @module One listening socket and the routes its handlers read on every event: a reload swaps the routes, the socket stays. */
import { handleHttp, type ListenerHttpDeps } from '../ingress/http-router.ts';
import { openListener, type ListenerInfo, type ListenerPlan, type ListenPolicy } from '../ingress/listeners.ts';
import { handleUpgrade, upgradeRoute, wsClose, wsDrain, wsMessage, wsOpen, wsPong, type WsDeps } from '../ingress/upgrade.ts';
import type { ListenerHandle, ListenerHandlers, TlsListenerOptions, WsTransportOptions } from '../transport/types.ts';
import type { VhostRouter } from '../ingress/vhost-router.ts';

/** What the handlers of one listener read on every event. */
export interface Routes {
  readonly router: VhostRouter;
  readonly http: ListenerHttpDeps;
  readonly ws: WsDeps;
}

/** The listener's bound port and scheme, as ListenerHttpDeps carries them (the port is filled in once it listens). */
export type ListenerRef = ListenerHttpDeps['listener'];

/** Builds a listener's routes for a plan of the configuration being served. */
export type Route = (plan: ListenerPlan, listener: ListenerRef) => Routes;

/** Makes a transport listener (uws-adapter.ts's createListener; a fake one in unit tests). */
export type CreateListener = (handlers: ListenerHandlers, ws: WsTransportOptions, tls?: TlsListenerOptions) => ListenerHandle;

export class ListenerSlot {
  readonly key: string;
  /** What the socket was bound with (transport-signature.ts): a plan with another one needs a new socket. */
  readonly signature: string;
  readonly handle: ListenerHandle;
  #plan: ListenerPlan;
  #info: ListenerInfo;
  /** Read by the handlers on every event; one object, replaced whole, so no event sees half a reload. */
  readonly #cell: { routes: Routes };
  readonly #listener: ListenerRef;

  private constructor(plan: ListenerPlan, signature: string, handle: ListenerHandle, info: ListenerInfo, cell: { routes: Routes }, listener: ListenerRef) {
    this.key = plan.key;
    this.signature = signature;
    this.handle = handle;
    this.#plan = plan;
    this.#info = info;
    this.#cell = cell;
    this.#listener = listener;
  }

  /** A socket for `plan`, listening, its handlers on `route`'s routes from the first event on. */
  static async open(create: CreateListener, plan: ListenerPlan, signature: string, ws: WsTransportOptions, route: Route, policy: ListenPolicy): Promise<ListenerSlot> {
    const listener: ListenerRef = { port: 0, tls: plan.tls !== undefined };
    const cell = { routes: route(plan, listener) };
    const handle = create(
      {
        http: (res, req, sni) => handleHttp(cell.routes.router, res, req, sni, cell.routes.http),
        routeUpgrade: (req, sni) => upgradeRoute(cell.routes.router, req, sni),
        upgrade: (res, req, ctx, sni, compression) => handleUpgrade(cell.routes.router, res, req, ctx, sni, cell.routes.ws, compression),
        open: (ws) => wsOpen(ws, cell.routes.ws),
        message: wsMessage,
        drain: wsDrain,
        pong: wsPong,
        close: (ws, code, msg) => wsClose(ws, code, msg, cell.routes.ws),
      },
      ws,
      plan.tls,
    );
    let info: ListenerInfo;
    try {
      info = await openListener(plan, handle, policy);
    } catch (err) {
      handle.closeAll();
      throw err;
    }
    listener.port = info.port;
    return new ListenerSlot(plan, signature, handle, info, cell, listener);
  }

  get plan(): ListenerPlan {
    return this.#plan;
  }

  get info(): ListenerInfo {
    return this.#info;
  }

  /** Serves another configuration's plan for the same address and transport. */
  reroute(plan: ListenerPlan, route: Route): void {
    this.#plan = plan;
    this.#cell.routes = route(plan, this.#listener);
    this.#info = { ...this.#info, vhosts: plan.vhosts.map((v) => v.name) };
  }

  /** Listens again after stopListening (the address, on the port `policy` gives). */
  async relisten(policy: ListenPolicy): Promise<void> {
    await openListener(this.#plan, this.handle, policy);
  }
}
