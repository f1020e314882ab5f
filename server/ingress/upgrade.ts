/** @module Websocket side of a listener: upgrade (protocol choice, filter), then transport events to Connections. */
import type { Logger } from 'pino';
import { TswsError, tswsError } from '../base/errors.ts';
import { HttpExchange } from '../http/exchange.ts';
import type { InFlight } from '../http/inflight.ts';
import type { FilterVerdict, UpgradeAccept } from '../plugin/api.ts';
import { ERROR_STATUS, readAuth, readRefusal } from '../plugin/verdict.ts';
import { remoteAddress, type HttpReq, type HttpRes, type SendStatus, type SocketData, type UpgradeContext, type WsCompression, type WsHandle } from '../transport/types.ts';
import { MISDIRECTED, type VhostRouter } from './vhost-router.ts';
import type { MountConfig } from '../config/model.ts';
import type { Vhost } from '../vhost/vhost.ts';
import { frontDoor, type FrontDoorConfig } from './front-door.ts';
import { readFraming, refuseFraming } from '../http/framing.ts';
import { badKey, refuseFailedUpgrade } from '../http/failed-upgrade.ts';
import { authorize } from '../http/basic-auth.ts';
import type { ProtocolHost } from '../session/protocol-host.ts';
import { Connection } from '../session/connection.ts';
import type { HeldLimits } from '../session/shared-limits.ts';
import type { WsSession } from '../session/ws-session.ts';
import { normalizeRequestPath } from '../http/request-path.ts';
import { proxyUpgrade } from '../http/mounts/proxy-ws.ts';
import { HttpRequestSnapshot } from '../http/mounts/callback-mount.ts';
import { RequestSnapshot } from '../session/peer-request.ts';
import { heard } from '../session/liveness.ts';
import { FAILED, ask, callNow } from '../session/invoke.ts';

export interface WsDeps {
  readonly serverString: string;
  readonly log: Logger;
  /** Served over TLS (for X-Forwarded-Proto when proxying). */
  readonly tls: boolean;
  readonly frontDoor: FrontDoorConfig;
  readonly inflight: InFlight;
  /** Websockets per remote address, for ip-limit-wsi (0: no limit); shared by every listener. */
  readonly perAddress: { readonly counts: Map<string, number>; readonly limit: number };
  /** Every open websocket of the server, for shutdown. */
  readonly connections: Set<WsSession>;
  /** Told of each accepted websocket (the open-file guard's estimate). */
  readonly accepted: () => void;
  /** The transport's names for its send codes. */
  readonly sendOutcomes: readonly SendStatus[];
}

/** What completing an upgrade needs once the protocol is chosen (and, maybe later, the filter answered). */
interface PendingUpgrade {
  readonly res: HttpRes;
  readonly context: UpgradeContext;
  readonly key: string;
  readonly requested: string;
  readonly extensions: string;
  readonly request: RequestSnapshot;
  readonly host: ProtocolHost;
  readonly ex: HttpExchange;
  /** The compressor of the transport route (its context) this upgrade came through. */
  readonly route: WsCompression;
}

/** What the upgrade's access-log line needs, read while `req` lives. */
interface UpgradeLog {
  readonly res: HttpRes;
  readonly vhost: Vhost;
  readonly request: RequestSnapshot;
  readonly target: string;
  readonly referer: string;
  readonly userAgent: string;
  readonly serverString: string;
  readonly inflight: InFlight;
}

/**
 * The synchronous path allocates no closures on purpose: tsx (esbuild with
 * keepNames) names every closure with an Object.defineProperty call, which
 * showed in the upgrade profile.
 */
export function handleUpgrade(router: VhostRouter, res: HttpRes, req: HttpReq, context: UpgradeContext, sni: string | undefined, deps: WsDeps, route: WsCompression = 'off'): void {
  // Read everything now: `req` dies when this function returns.
  const key = req.getHeader('sec-websocket-key');
  const requested = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const version = req.getHeader('sec-websocket-version');
  const origin = req.getHeader('origin');
  // The snapshot keeps the headers packed; reading request.headers would unpack them for the
  // connection's whole life. So what the upgrade itself needs is read from `req` directly,
  // User-Agent and Referer only when reject-service-keywords or the access log want them.
  const request = RequestSnapshot.from(req, remoteAddress(res));
  const screened = deps.frontDoor.rejectServiceKeywords.length > 0 ? req.getHeader('user-agent') : undefined;
  const target = `${request.path}${request.query ? `?${request.query}` : ''}`;
  const door = frontDoor(router, req.getHeader('host'), sni, screened ?? '', target, deps.frontDoor);
  const vhost = door.vhost;
  const logging = vhost.accessLog !== undefined;
  const log: UpgradeLog = {
    res,
    vhost,
    request,
    target,
    referer: logging ? req.getHeader('referer') : '',
    userAgent: logging ? (screened ?? req.getHeader('user-agent')) : '',
    serverString: deps.serverString,
    inflight: deps.inflight,
  };
  // An upgrade carrying an ambiguous body is refused as any request is (server/http/framing.ts).
  const framing = readFraming(req);
  if (!framing.ok) return refuseFraming(upgradeExchange(log, '-'), framing.detail, deps.log);
  if (!door.pass) {
    if (door.code.startsWith('TSWS_')) deps.log.debug({ code: door.code, peer: request.peer, vhost: vhost.name }, door.message);
    return upgradeExchange(log, '-').sendStatus(door.status, door.message, door.headers);
  }
  // uWS.js upgrades any version; RFC 6455 4.4 wants 426 and the version we speak.
  if (version !== '13') {
    return upgradeExchange(log, '-').sendStatus(426, 'Only websocket version 13 is spoken here.', [['Sec-WebSocket-Version', '13']]);
  }
  const wrongKey = badKey(key);
  if (wrongKey !== undefined) return refuseFailedUpgrade(upgradeExchange(log, '-'), wrongKey, deps.log);
  const refused = checkUpgradeLimits(vhost, request.peer, origin, deps);
  if (refused) {
    deps.log.debug({ code: refused.code, peer: request.peer, vhost: vhost.name }, refused.message);
    return upgradeExchange(log, requested || '-').sendStatus(refused.httpStatus ?? 403, refused.detail);
  }

  // lws proxies upgrades under an http(s):// mount instead of choosing a protocol.
  const { normalized, mount, relay } = upgradeTarget(vhost, request.path);
  if (mount?.origin.kind === 'proxy') {
    const ex = upgradeExchange(log, 'proxy');
    return proxyUpgrade({ res, context, key, requested, extensions, request, mount: { ...mount, origin: mount.origin }, path: normalized.ok ? normalized.path : request.path, ex, deps });
  }

  let picked: ProtocolHost | TswsError;
  let seen: RequestSnapshot = request;
  if (mount && relay && normalized.ok) {
    // The mount serves this upgrade (its protocol relays it): the mount's basic-auth covers it, as a
    // proxy mount's covers its upgrades. Unchecked, a websocket went where its HTTP requests could not.
    if (mount.basicAuth !== undefined) {
      const ex = upgradeExchange(log, relay.protocol);
      ex.useMount(mount);
      if (!authorize(ex, req.getHeader('authorization'), mount, deps.log)) return;
    }
    picked = relay;
    const rest = mount.mountpoint === '/' ? normalized.path : normalized.path.slice(mount.mountpoint.length);
    seen = new HttpRequestSnapshot(request, normalized.path, mount.mountpoint, rest);
  } else picked = vhost.pickProtocol(requested);
  if (picked instanceof TswsError) {
    deps.log.debug({ code: picked.code, peer: request.peer, vhost: vhost.name }, picked.message);
    return upgradeExchange(log, requested || '-').sendStatus(picked.httpStatus ?? 400, picked.detail);
  }
  const host: ProtocolHost = picked;
  const ex = upgradeExchange(log, host.protocol);
  const pending: PendingUpgrade = { res, context, key, requested, extensions, request: seen, host, ex, route };

  const filter = host.def.callbacks.filter;
  if (!filter) return completeUpgrade(pending, 'accept');
  ex.beforePluginCode();
  const verdict = ask(host, host.where.filter, filter, seen, host);
  if (verdict === FAILED) return ex.sendStatus(500, FILTER_FAILED);
  if (!(verdict instanceof Promise)) return completeUpgrade(pending, verdict);
  ex.watchAbort();
  verdict.then((v) => (v === FAILED ? ex.sendStatus(500, FILTER_FAILED) : completeUpgrade(pending, v)));
}

const FILTER_FAILED = 'The upgrade filter failed.';

/** Where an upgrade goes on its vhost besides its subprotocol: a proxy mount, or a protocol relaying its callback:// mount's upgrades. */
function upgradeTarget(vhost: Vhost, path: string) {
  const normalized = normalizeRequestPath(path);
  const mount: MountConfig | undefined = normalized.ok ? vhost.findMount(normalized.path, { upgrade: true }) : undefined;
  // A protocol that relays upgrades takes every one under its callback:// mounts, whatever subprotocol it names.
  const owner = mount?.origin.kind === 'callback' ? vhost.protocols.get(mount.origin.protocol) : undefined;
  return { normalized, mount, relay: owner?.def.mountUpgrades ? owner : undefined };
}

/**
 * The transport's question before an upgrade on a listener serving
 * permessage-deflate (ListenerHandlers.routeUpgrade): the compressor of the
 * protocol handleUpgrade will pick, by the same steps. Proxied, misdirected
 * or unknown-protocol upgrades take the route without; an upgrade
 * handleUpgrade then refuses is answered in HTTP whatever its route. Only
 * listeners with a compressing protocol pay for the question.
 */
export function upgradeRoute(router: VhostRouter, req: HttpReq, sni: string | undefined): WsCompression {
  const vhost = router.pick(req.getHeader('host'), sni);
  if (vhost === MISDIRECTED) return 'off';
  const { mount, relay } = upgradeTarget(vhost, req.getUrl());
  if (mount?.origin.kind === 'proxy') return 'off';
  const host = relay ?? vhost.pickProtocol(req.getHeader('sec-websocket-protocol'));
  return host instanceof TswsError ? 'off' : host.compression;
}

function upgradeExchange(l: UpgradeLog, protocol: string): HttpExchange {
  return new HttpExchange(l.res, l.vhost, l.request.method, `${l.target} (${protocol})`, l.request.peer, l.referer, l.userAgent, l.serverString, l.inflight);
}

function completeUpgrade(u: PendingUpgrade, verdict: FilterVerdict): void {
  const { ex, host } = u;
  // Plain-JS plugins are not type checked: anything but 'accept' or {accept: true} refuses, as it always did.
  const accepted = typeof verdict === 'object' && verdict !== null && 'accept' in verdict && verdict.accept === true ? (verdict as UpgradeAccept) : undefined;
  if (verdict !== 'accept' && !accepted) {
    if (ex.aborted) return;
    const refusal = readRefusal(verdict, ERROR_STATUS);
    return ex.sendStatus(refusal.status, refusal.reason ?? 'Refused.', refusal.headers);
  }
  // From here every way out but the upgrade tells the filter its accepted upgrade was dropped.
  if (ex.aborted) return accepted?.dropped?.();
  if (accepted?.protocol !== undefined && accepted.protocol !== '' && !u.requested.split(',').some((p) => p.trim() === accepted.protocol)) {
    host.counters.callbackErrors++;
    host.log.error({ callback: 'filter', protocol: accepted.protocol }, `vhost "${host.vhostName}", protocol "${host.protocol}": the filter accepted with subprotocol "${accepted.protocol}", which the client did not ask for; upgrade refused with 500`);
    accepted.dropped?.();
    return ex.sendStatus(500, 'The upgrade filter failed.');
  }
  const auth = readAuth(accepted?.auth);
  if (auth) u.request.auth = auth;
  // The vhost's shared limits: in a cluster a new bucket first hears what the other instances spent.
  const held = host.limits?.hold(u.request.peer, auth?.subject);
  if (!held?.ready) return openConnection(u, accepted, held);
  ex.watchAbort();
  void held.ready.then(() => openConnection(u, accepted, held));
}

function openConnection(u: PendingUpgrade, accepted: UpgradeAccept | undefined, held: HeldLimits | undefined): void {
  const { ex, host } = u;
  if (ex.aborted || !host.live) {
    held?.release();
    accepted?.dropped?.();
    if (!ex.aborted) ex.sendStatus(503, 'This protocol is not available.');
    return;
  }
  const echoed = accepted?.protocol ?? (u.requested ? host.protocol : '');
  // The connection first: the session maker may be given it (websocket.connection makes the connection's object).
  const conn = new Connection(host, u.request);
  conn.holdLimits(held);
  const factory = host.def.wsSession;
  if (factory) {
    ex.beforePluginCode();
    const session = callNow(host, host.where.session, factory, conn, undefined);
    if (session === FAILED) {
      conn.abandon();
      accepted?.dropped?.();
      return ex.sendStatus(500, 'The session could not be created.');
    }
    conn.session = session;
  }
  const userData: SocketData = { session: conn, peer: u.request.peer };
  // Echo the protocol only when the client asked for one (RFC 6455 4.2.2).
  // Never inside res.cork(): after an async upgrade (a filter that
  // answered later), the cork's closing uncork runs on the HTTP socket that
  // upgrade() just moved into the websocket context, and now and then
  // uWS.js closes the new websocket there (1006 at the client, right after
  // open). Inside the upgrade handler uWS.js has the socket corked anyway.
  // uWS.js negotiates permessage-deflate from the offer with the route's compressor; a route
  // that is not this protocol's (the two answers disagreed) gets no offer: never compress
  // a protocol that did not ask for it, nor with another compressor than it asked for.
  u.res.upgrade(userData, u.key, echoed, host.compression === u.route ? u.extensions : '', u.context);
  ex.finish(101, 0);
}

/** Origin allow-list and per-address limit, for every upgrade (proxied ones too). */
/** `origin` as the transport reads it: "" when the request has none. */
function checkUpgradeLimits(vhost: Vhost, peer: string, origin: string, deps: WsDeps): TswsError | undefined {
  const allowed = vhost.config.wsOrigins;
  // No Origin header: not a browser, and anything else can forge one anyway.
  if (allowed && origin !== '' && !allowed.includes(origin) && !allowed.includes('*')) {
    return tswsError('TSWS_ERR_UPGRADE_ORIGIN', { vhost: vhost.name, origin });
  }
  const { counts, limit } = deps.perAddress;
  if (limit > 0 && (counts.get(peer) ?? 0) >= limit) return tswsError('TSWS_ERR_UPGRADE_IP_LIMIT', { peer, limit });
  return undefined;
}

function sessionOf(ws: WsHandle): WsSession {
  return ws.session as WsSession;
}

export function wsOpen(ws: WsHandle, deps: WsDeps): void {
  const data = ws.getUserData() as SocketData;
  const counts = deps.perAddress.counts;
  counts.set(data.peer, (counts.get(data.peer) ?? 0) + 1);
  const session = data.session as WsSession;
  deps.connections.add(session);
  deps.accepted();
  session.heardAt = heard.now;
  session.opened(ws, deps.sendOutcomes);
}

export function wsMessage(ws: WsHandle, message: ArrayBuffer, isBinary: boolean): void {
  const session = sessionOf(ws);
  // One store per message, from the coarse clock: all the silence sweep needs (liveness.ts).
  session.heardAt = heard.now;
  session.received(message, isBinary);
}

export function wsPong(ws: WsHandle): void {
  sessionOf(ws).heardAt = heard.now;
}

export function wsDrain(ws: WsHandle): void {
  sessionOf(ws).drained();
}

export function wsClose(ws: WsHandle, code: number, message: ArrayBuffer, deps: WsDeps): void {
  const data = ws.getUserData() as SocketData;
  const counts = deps.perAddress.counts;
  const left = (counts.get(data.peer) ?? 1) - 1;
  if (left > 0) counts.set(data.peer, left);
  else counts.delete(data.peer);
  const conn = data.session as WsSession;
  deps.connections.delete(conn);
  conn.closedByTransport(code, Buffer.from(message).toString());
}
