/** @module jwtFilter (tsws/plugin/runtime): a websocket and HTTP gate that verifies JWTs with jose, hands the claims to the session, and refreshes a websocket's token over the connection. */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
import type { Conn } from './api-handles.ts';
import type { Accepted, Authenticated, PeerRequest, Refusal } from './api-request.ts';
import { resolveKey, type JwtKeyOptions, type VerifyKey } from './jwt-keys.ts';

/** Where a token may come from, tried in the order given. */
export type TokenSource = 'header' | 'protocol' | 'query';

export interface JwtFilterOptions extends JwtKeyOptions {
  /** The algorithms the issuer signs with, e.g. ["RS256"]; a token signed otherwise is refused. */
  readonly algorithms: readonly string[];
  /** Required `iss` (one of these). */
  readonly issuer?: string | readonly string[];
  /** Required `aud` (one of these). */
  readonly audience?: string | readonly string[];
  /** Clock skew allowed on exp/nbf/iat, in seconds (default 0); the connection closes at exp plus this. */
  readonly clockToleranceSecs?: number;
  /**
   * Where the token is read, in order (default ["header", "protocol"]):
   * "header" is `Authorization: Bearer <token>` (HTTP clients, server-side
   * websocket clients); "protocol" is a Sec-WebSocket-Protocol entry
   * `<protocolPrefix><token>` beside the real protocol (browsers, which cannot
   * set headers on a websocket); "query" is `?<queryParam>=<token>`, for
   * browsers too, but the URL lands in access logs and proxies' logs.
   */
  readonly token?: readonly TokenSource[];
  /** Default "access_token" (RFC 6750 2.3). */
  readonly queryParam?: string;
  /** Default "bearer.": `new WebSocket(url, ["chat", "bearer." + token])`. */
  readonly protocolPrefix?: string;
  /** The claim naming the user (default "sub"); a token without it is refused. */
  readonly subjectClaim?: string;
  /** Refuse tokens without `exp` (default true): a token that never expires keeps a connection for ever. */
  readonly requireExpiry?: boolean;
  /** Realm in WWW-Authenticate (default "tsws"). */
  readonly realm?: string;
}

/** Why a token was not taken: the RFC 6750 error and a description safe for a header. */
export interface TokenRejection {
  readonly error: 'invalid_request' | 'invalid_token';
  readonly description: string;
  /** Set when the fault is on our side (the key set could not be fetched): the operator hears of it. */
  readonly ours?: string;
}

export type RefreshResult = { readonly ok: true; readonly auth: Authenticated } | { readonly ok: false; readonly reason: string };

/** The gate (call it as a websocket or HTTP `filter`), with the refresh helpers. */
export interface JwtFilter {
  (req: PeerRequest, vhost?: { readonly log: Logger }): Promise<Accepted | Refusal>;
  /** Verifies one token: the authentication it gives, or the rejection. */
  verify(token: string): Promise<Authenticated | TokenRejection>;
  /**
   * A later token for the connection's subject: verified, then
   * `conn.renewAuth` (the 4001 close moves to its expiry). Never rejects; a
   * refused token leaves the connection as it was (it still closes at the old
   * expiry), and says why.
   */
  refresh(conn: Conn, token: string): Promise<RefreshResult>;
  /**
   * For `receive`: true when `data` is the token frame `{"ch":"token","token":"..."}`
   * (then it is being handled: `done` gets the outcome, e.g. to tell the
   * client), false for any other message, which the plugin handles itself.
   */
  tokenFrame(conn: Conn, data: Buffer, isBinary: boolean, done?: (result: RefreshResult) => void): boolean;
}

const SOURCES: readonly TokenSource[] = ['header', 'protocol', 'query'];
const WARN_EVERY_MS = 10_000;
const TOKEN_FRAME = /^\s*\{\s*"ch"\s*:\s*"token"/;

export function jwtFilter(o: JwtFilterOptions): JwtFilter {
  const key: VerifyKey = resolveKey(o, o.algorithms);
  const sources = o.token ?? ['header', 'protocol'];
  for (const s of sources) if (!SOURCES.includes(s)) throw tswsError('TSWS_ERR_JWT_OPTION', { option: 'token', detail: `"${String(s)}" is not one of ${SOURCES.join(', ')}` });
  const tolerance = o.clockToleranceSecs ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw tswsError('TSWS_ERR_JWT_OPTION', { option: 'clockToleranceSecs', detail: 'seconds, 0 or more' });
  const subjectClaim = o.subjectClaim ?? 'sub';
  const realm = o.realm ?? 'tsws';
  // An unreachable key set refuses every token: said once per WARN_EVERY_MS, not per upgrade.
  let warnedAt = -Infinity;
  const verifyOptions = {
    algorithms: [...o.algorithms],
    clockTolerance: tolerance,
    ...(o.issuer !== undefined ? { issuer: typeof o.issuer === 'string' ? o.issuer : [...o.issuer] } : {}),
    ...(o.audience !== undefined ? { audience: typeof o.audience === 'string' ? o.audience : [...o.audience] } : {}),
    ...(o.requireExpiry === false ? {} : { requiredClaims: ['exp'] }),
  };

  const verify = async (token: string): Promise<Authenticated | TokenRejection> => {
    let payload: JWTPayload;
    try {
      // One overload for a key and a key set alike (jose types the two apart).
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], verifyOptions));
    } catch (err) {
      return rejection(err);
    }
    const subject = payload[subjectClaim];
    if (typeof subject !== 'string' || subject === '') return { error: 'invalid_token', description: `The token has no "${subjectClaim}" claim` };
    return { subject, claims: payload, ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp + tolerance } : {}) };
  };

  const gate = async (req: PeerRequest, vhost?: { readonly log: Logger }): Promise<Accepted | Refusal> => {
    const token = findToken(req, sources, o.queryParam ?? 'access_token', o.protocolPrefix ?? 'bearer.');
    if (token === undefined) return { refuse: 401, reason: 'A bearer token is required.', headers: [['WWW-Authenticate', `Bearer realm="${realm}"`]] };
    const auth = await verify(token);
    if ('subject' in auth) return { accept: true, auth };
    if (auth.ours !== undefined && vhost && Date.now() - warnedAt >= WARN_EVERY_MS) {
      warnedAt = Date.now();
      const e = tswsError('TSWS_WARN_JWT_KEYS_UNREACHABLE', { reason: auth.ours });
      vhost.log.warn({ code: e.code }, e.message);
    } else vhost?.log.debug({ peer: req.peer, reason: auth.description }, 'jwtFilter: token refused');
    return {
      refuse: 401,
      reason: `${auth.description}.`,
      headers: [['WWW-Authenticate', `Bearer realm="${realm}", error="${auth.error}", error_description="${auth.description}"`]],
    };
  };

  const refresh = async (conn: Conn, token: string): Promise<RefreshResult> => {
    const current = conn.auth;
    if (!current) return { ok: false, reason: 'the connection was not authenticated' };
    const auth = await verify(token);
    if (!('subject' in auth)) return { ok: false, reason: auth.description };
    if (auth.subject !== current.subject) return { ok: false, reason: 'the token names another subject' };
    if (current.expiresAt !== undefined && auth.expiresAt !== undefined && auth.expiresAt <= current.expiresAt) return { ok: false, reason: 'the token expires no later than the current one' };
    if (!conn.isOpen) return { ok: false, reason: 'the connection closed' };
    conn.renewAuth(auth);
    return { ok: true, auth };
  };

  const tokenFrame = (conn: Conn, data: Buffer, isBinary: boolean, done?: (r: RefreshResult) => void): boolean => {
    if (isBinary || data[0] !== 0x7b || !TOKEN_FRAME.test(data.toString('latin1', 0, 64))) return false;
    let token: unknown;
    try {
      token = (JSON.parse(data.toString()) as { token?: unknown }).token;
    } catch {
      token = undefined;
    }
    const result = typeof token === 'string' ? refresh(conn, token) : Promise.resolve<RefreshResult>({ ok: false, reason: 'the token frame holds no token' });
    void result.then((r) => done?.(r));
    return true;
  };

  return Object.assign(gate, { verify, refresh, tokenFrame });
}

/** The first token found in the sources, in order. */
function findToken(req: PeerRequest, sources: readonly TokenSource[], queryParam: string, prefix: string): string | undefined {
  for (const s of sources) {
    if (s === 'header') {
      const m = /^Bearer[ \t]+([^\s,]+)\s*$/i.exec(req.header('authorization') ?? '');
      if (m) return m[1];
    } else if (s === 'protocol') {
      for (const p of (req.header('sec-websocket-protocol') ?? '').split(',')) {
        const name = p.trim();
        if (name.startsWith(prefix) && name.length > prefix.length) return name.slice(prefix.length);
      }
    } else {
      const q = req.queryParam(queryParam);
      if (q) return q;
    }
  }
  return undefined;
}

/** jose's error as RFC 6750 words, never a stack: the description goes in a header, so only plain characters. */
function rejection(err: unknown): TokenRejection {
  const invalid = (description: string): TokenRejection => ({ error: 'invalid_token', description });
  if (err instanceof errors.JWTExpired) return invalid('The token expired');
  if (err instanceof errors.JWTClaimValidationFailed) return invalid(`The token's "${err.claim}" claim is not accepted here`.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ''));
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('The token signature is invalid');
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid('The token algorithm is not accepted here');
  if (err instanceof errors.JWKSNoMatchingKey) return invalid('No key of the issuer matches the token');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return invalid('The token is malformed');
  // Anything else is ours: the key set timed out, was not JSON, or its fetch failed (jose passes fetch's own errors).
  const why = err instanceof Error ? err.message : String(err);
  return { ...invalid(err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid ? 'The issuer keys could not be fetched' : 'The token could not be verified'), ours: why };
}
