/** @module callback:// mounts: hand requests under the mountpoint to a protocol's HTTP callbacks. */
import type { Origin } from '../../config/model.ts';
import { tswsError } from '../../base/errors.ts';
import { ERROR_STATUS, readAuth, readRefusal } from '../../plugin/verdict.ts';
import type { ProtocolHost } from '../../session/protocol-host.ts';
import { FAILED, ask } from '../../session/invoke.ts';
import { RequestSnapshot } from '../../session/peer-request.ts';
import { HttpTransaction } from './callback-txn.ts';
import type { HttpExchange, UnreadBody } from '../exchange.ts';
import type { MountRequest } from '../mount-request.ts';
import { RequestBody, checkBodyLimit, unreadBody } from '../request-body.ts';

type CallbackOrigin = Extract<Origin, { kind: 'callback' }>;

/** The request as an HTTP plugin sees it (and an upgrade a mountUpgrades protocol takes): a snapshot plus where it fell in the mount. */
export class HttpRequestSnapshot extends RequestSnapshot {
  constructor(base: RequestSnapshot, path: string, readonly mountpoint: string, readonly pathInMount: string) {
    super(base.method, path, base.query, { ...base.headers }, base.peer);
  }
}

export function serveCallbackMount(m: MountRequest<CallbackOrigin>): void {
  const { ex, req, mount, rest, path } = m;
  const host = ex.vhost.protocols.get(mount.origin.protocol);
  if (!host?.live) {
    const e = tswsError('TSWS_ERR_HTTP_PROTOCOL_UNAVAILABLE', { vhost: ex.vhost.name, protocol: mount.origin.protocol });
    m.deps.log.warn({ code: e.code }, e.message);
    return ex.sendStatus(e.httpStatus ?? 503, 'This service is not available.');
  }
  const check = checkBodyLimit(m.framing, host.def.httpBodyLimit);
  if (!check.ok) return ex.sendStatus(check.status, check.detail, [], { unread: unreadBody(ex.res, m.framing) });
  const request = new HttpRequestSnapshot(RequestSnapshot.from(req, ex.peer), path, mount.mountpoint, rest);
  // A declared body (any Content-Length, even 0, or chunked) gets httpBodyCompletion.
  const hasBody = check.length !== undefined || check.chunked;
  // Attached now: uWS.js drops body bytes that arrive before an onData handler.
  const body = new RequestBody(ex.res, host.def.httpBodyLimit, { stallMs: m.deps.bodyStallMs, clock: m.deps.clock });
  ex.holdBody(body);

  const unread = hasBody ? body : undefined;
  const start = () => {
    if (ex.aborted) return;
    new HttpTransaction(ex, host, request, body, hasBody).start();
  };

  const filter = host.def.callbacks.httpFilter;
  if (!filter) {
    if (host.def.httpSession) ex.beforePluginCode();
    return start();
  }
  ex.watchAbort();
  const verdict = ask(host, host.where[host.def.httpGate.name], filter, request, host);
  if (verdict === FAILED) return accessFailed(ex, unread);
  if (!(verdict instanceof Promise)) return decide(ex, host, verdict, start, unread, request);
  verdict.then((v) => (v === FAILED ? accessFailed(ex, unread) : ex.res.cork(() => decide(ex, host, v, start, unread, request))));
}

/**
 * The HTTP gate's answer. Version 2 says 'accept', as the websocket filter
 * does, and may refuse with any error status; version 1's checkAccess says
 * 'allow' and refuses with 401 or 403 (anything else is 403), as it did.
 */
function decide(ex: HttpExchange, host: ProtocolHost, verdict: unknown, start: () => void, unread: UnreadBody | undefined, request: HttpRequestSnapshot): void {
  if (ex.aborted) return;
  const gate = host.def.httpGate;
  if (verdict === gate.accept) return start();
  // Version 2's 'accept' naming who the peer is: the transaction's request carries it (txn.request.auth).
  if (gate.accept === 'accept' && typeof verdict === 'object' && verdict !== null && (verdict as { accept?: unknown }).accept === true) {
    const auth = readAuth((verdict as { auth?: unknown }).auth);
    if (auth) request.auth = auth;
    return start();
  }
  const refusal = readRefusal(verdict, gate.accept === 'allow' ? (s) => s === 401 : ERROR_STATUS);
  const { status, headers } = refusal;
  if (status === 401 && !headers.some(([k]) => k.toLowerCase() === 'www-authenticate')) headers.push(['WWW-Authenticate', 'Basic realm="tsws"']);
  ex.sendStatus(status, refusal.reason ?? (status === 401 ? 'Authentication required.' : 'Forbidden.'), headers, { unread });
}

/** The gate threw or rejected (counted and logged by the invoker). */
function accessFailed(ex: HttpExchange, unread: UnreadBody | undefined): void {
  ex.sendStatus(500, 'The access check failed.', [], { unread });
}
