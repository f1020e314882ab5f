/** @module Registry entries for token auth (jwtFilter's configuration, a connection's expiry and refresh) and the shared rate limits, spread into errors.ts's REGISTRY. */
import { error, warning } from './error-entry.ts';

export const AUTH_ERRORS = {
  TSWS_ERR_JWT_NO_KEY: error<{ given: string }>(
    (p) => `jwtFilter: give exactly one of secret, publicKey or jwksUrl (given: ${p.given})`,
    'A shared secret for HS256/384/512, a public key (PEM or JWK) for RS/PS/ES/EdDSA, or the URL of the issuer\'s JWKS (docs/reference/auth.md).'),
  TSWS_ERR_JWT_ALGORITHM: error<{ algorithm: string; key: string; allowed: string }>(
    (p) => `jwtFilter: algorithm "${p.algorithm}" cannot be used with a ${p.key}; with it: ${p.allowed}`,
    'List in `algorithms` only the algorithms the issuer signs with, matching the key kind (HS* with secret; RS*, PS*, ES*, EdDSA with publicKey or jwksUrl).'),
  TSWS_ERR_JWT_KEY: error<{ detail: string }>(
    (p) => `jwtFilter: the key is unusable: ${p.detail}`,
    'Pass the issuer\'s public key as PEM (SPKI, "-----BEGIN PUBLIC KEY-----") or as a JWK object; a secret must be at least 32 bytes for HS256.'),
  TSWS_ERR_JWT_OPTION: error<{ option: string; detail: string }>(
    (p) => `jwtFilter: bad option "${p.option}": ${p.detail}`,
    'Fix the option; docs/reference/auth.md lists them.'),
  TSWS_WARN_JWT_KEYS_UNREACHABLE: warning<{ reason: string }>(
    (p) => `jwtFilter: tokens cannot be verified: ${p.reason}; they are refused with 401 meanwhile (logged at most every 10 s)`,
    'Check that the jwksUrl answers from this host (DNS, TLS, firewall) with a JSON Web Key Set.'),
  TSWS_ERR_AUTH_EXPIRED: error<{ protocol: string; peer: string; subject: string }>(
    (p) => `protocol "${p.protocol}": the token of "${p.subject}" (${p.peer}) expired with no refresh; closed with 4001`,
    'Clients refresh before expiry by sending {"ch":"token","token":"..."} (docs/reference/auth.md); nothing to do on the server.',
    { closeCode: 4001 }),
  TSWS_ERR_AUTH_SUBJECT_CHANGED: error<{ protocol: string; from: string; to: string }>(
    (p) => `protocol "${p.protocol}": renewAuth was given subject "${p.to}" on a connection of "${p.from}"`,
    'A refreshed token must name the same subject; a different user opens a new connection.'),
  TSWS_ERR_RATE_LIMITED_ADDRESS: error<{ vhost: string; peer: string }>(
    (p) => `vhost "${p.vhost}": the connections of ${p.peer} together sent faster than "ws-rate-limit-address" allows; this one closed with 1008`,
    'Send less often, or raise the vhost\'s "ws-rate-limit-address" if many legitimate clients share that address (NAT, a proxy).',
    { closeCode: 1008 }),
  TSWS_ERR_RATE_LIMITED_USER: error<{ vhost: string; subject: string }>(
    (p) => `vhost "${p.vhost}": the connections of user "${p.subject}" together sent faster than "ws-rate-limit-user" allows; this one closed with 1008`,
    'Send less often, or raise the vhost\'s "ws-rate-limit-user" if the rate is legitimate.',
    { closeCode: 1008 }),
} as const;
