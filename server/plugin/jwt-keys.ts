/** @module jwtFilter's key: a secret, a public key or a remote JWKS, checked against the algorithms when the filter is made (a config mistake is a coded error then, never a refused token later). */
import crypto from 'node:crypto';
import { createRemoteJWKSet, type JWK, type JWTVerifyGetKey, type KeyObject } from 'jose';
import { tswsError } from '../base/errors.ts';

/** The key options of jwtFilter (exactly one of the three). */
export interface JwtKeyOptions {
  /** HS256/384/512: the shared secret (text as UTF-8, or bytes). */
  readonly secret?: string | Uint8Array;
  /** RS/PS/ES/EdDSA: the issuer's public key, PEM ("-----BEGIN PUBLIC KEY-----") or a JWK object. */
  readonly publicKey?: string | JWK;
  /** RS/PS/ES/EdDSA: the issuer's key set (e.g. "https://issuer/.well-known/jwks.json"), fetched when needed and cached. */
  readonly jwksUrl?: string;
  /** The JWKS cache: a new `kid` fetches the set again at most once per cooldown (default 30 s, jose's), the set is fetched again when older than maxAge (default 10 min), a fetch gives up after timeout (default 5 s). */
  readonly jwks?: { readonly cooldownSecs?: number; readonly maxAgeSecs?: number; readonly timeoutSecs?: number };
}

const HMAC = ['HS256', 'HS384', 'HS512'] as const;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** What jose's jwtVerify takes as its key. */
export type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey;

/**
 * Reads the key and checks `algorithms` against its kind. Why refuse a
 * mix: a verifier accepting HS256 with an RSA public key as the "secret" is
 * the classic algorithm-confusion hole; jose refuses it too, but here it is
 * a start-up error naming the option instead of every token refused.
 */
export function resolveKey(o: JwtKeyOptions, algorithms: readonly string[]): VerifyKey {
  const given = (['secret', 'publicKey', 'jwksUrl'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw tswsError('TSWS_ERR_JWT_NO_KEY', { given: given.join(', ') || 'none' });
  if (algorithms.length === 0) throw tswsError('TSWS_ERR_JWT_OPTION', { option: 'algorithms', detail: 'list at least one algorithm, e.g. ["HS256"] or ["RS256"]' });
  const kind = given[0] as 'secret' | 'publicKey' | 'jwksUrl';
  const allowed: readonly string[] = kind === 'secret' ? HMAC : ASYMMETRIC;
  for (const alg of algorithms) {
    if (!allowed.includes(alg)) throw tswsError('TSWS_ERR_JWT_ALGORITHM', { algorithm: String(alg), key: kind, allowed: allowed.join(', ') });
  }
  if (kind === 'secret') {
    const secret = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : (o.secret as Uint8Array);
    // RFC 7518 3.2: a key at least as long as the hash; jose would refuse shorter ones token by token.
    const need = Math.max(...algorithms.map((a) => Number(a.slice(2)) / 8));
    if (secret.byteLength < need) throw tswsError('TSWS_ERR_JWT_KEY', { detail: `the secret has ${secret.byteLength} bytes; ${algorithms.join(', ')} need at least ${need}` });
    return secret;
  }
  if (kind === 'publicKey') {
    try {
      const pk = o.publicKey as string | JWK;
      const key = typeof pk === 'string' ? crypto.createPublicKey(pk) : crypto.createPublicKey({ key: pk as crypto.JsonWebKey, format: 'jwk' });
      if (key.type !== 'public') throw new Error(`a ${key.type} key was given`);
      return key;
    } catch (err) {
      throw tswsError('TSWS_ERR_JWT_KEY', { detail: err instanceof Error ? err.message : String(err) }, err);
    }
  }
  let url: URL;
  try {
    url = new URL(o.jwksUrl as string);
  } catch (err) {
    throw tswsError('TSWS_ERR_JWT_OPTION', { option: 'jwksUrl', detail: `"${String(o.jwksUrl)}" is not a URL` }, err);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw tswsError('TSWS_ERR_JWT_OPTION', { option: 'jwksUrl', detail: `${url.protocol} is neither https: nor http:` });
  const j = o.jwks ?? {};
  return createRemoteJWKSet(url, {
    cooldownDuration: secs('jwks.cooldownSecs', j.cooldownSecs, 30),
    cacheMaxAge: secs('jwks.maxAgeSecs', j.maxAgeSecs, 600),
    timeoutDuration: secs('jwks.timeoutSecs', j.timeoutSecs, 5),
  });
}

function secs(option: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw tswsError('TSWS_ERR_JWT_OPTION', { option, detail: 'seconds, 0 or more' });
  return n * 1000;
}
