/** @module The transport side of a vhost block: its listen addresses and its TLS settings. */
import fs from 'node:fs';
import { tswsError } from '../errors.ts';
import { asBool, asInt, asString, isPlainObject, type Site } from './coerce.ts';
import type { ListenAddress, TlsConfig } from './model.ts';
import type { Expand } from './vhost-block.ts';

/** One element of "listen": {"interface": "::", "port": "2221"} or {"unix-socket": "/run/x.sock"}. */
function buildListen(raw: unknown, site: Site, expand: Expand): ListenAddress | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'listen[]', expected: 'an object with "port" (and "interface") or "unix-socket"', got: typeof raw }));
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (!['port', 'interface', 'unix-socket'].includes(k)) {
      site.diag.add(tswsError('TSWS_ERR_CONFIG_UNKNOWN_KEY', { where: site.at(k).where, key: k, block: 'listen' }));
    }
  }
  const sock = raw['unix-socket'] === undefined ? undefined : asString(raw['unix-socket'], site.at('unix-socket'), 'unix-socket');
  if (sock !== undefined) return { port: 0, iface: expand.path(sock), unixSocket: true, source: site.source };
  if (raw.port === undefined) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'port', block: 'a listen address' }));
    return undefined;
  }
  const port = asInt(raw.port, site.at('port'), 'port', 0, 65535);
  const iface = raw.interface === undefined ? undefined : asString(raw.interface, site.at('interface'), 'interface');
  return port === undefined ? undefined : { port, iface, unixSocket: false, source: site.source };
}

/**
 * TLS 1.2 ciphers when "ciphers" says nothing: Mozilla's "intermediate" list
 * (forward secrecy and AEAD only; TLS 1.0 and 1.1 are off in uWS.js's
 * BoringSSL anyway). TLS 1.3's suites are BoringSSL's fixed, all-strong set.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305',
].join(':');

export function buildListens(main: ListenAddress, raw: unknown, site: Site, expand: Expand): ListenAddress[] {
  if (raw === undefined) return [main];
  if (!Array.isArray(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'listen', expected: 'an array of listen addresses', got: typeof raw }));
    return [main];
  }
  const extra = raw.map((r, i) => buildListen(r, site.at(i), expand)).filter((a): a is ListenAddress => a !== undefined);
  return [main, ...extra];
}

export interface TlsFields {
  readonly tls: TlsConfig | undefined;
  readonly sts: boolean;
  readonly ignoreMissingCert: boolean;
  readonly redirectHttp: boolean;
}

/** Certificate and key come as a pair; files are checked at start (and by --check), not here. */
export function buildTls(raw: Record<string, unknown>, use: ReadonlySet<string>, site: Site, expand: Expand): TlsFields {
  const get = <T>(key: string, conv: (v: unknown, s: Site, k: string) => T | undefined): T | undefined =>
    use.has(key) ? conv(raw[key], site.at(key), key) : undefined;
  const cert = get('host-ssl-cert', asString);
  const key = get('host-ssl-key', asString);
  const ca = get('host-ssl-ca', asString);
  const sts = get('sts', asBool) ?? false;
  const redirectHttp = get('redirect-http', asBool) ?? false;
  if ((cert === undefined) !== (key === undefined)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: cert === undefined ? 'host-ssl-cert' : 'host-ssl-key', block: 'a TLS vhost (certificate and key go together)' }));
  }
  const tls =
    cert !== undefined && key !== undefined
      ? { cert: expand.path(cert), key: expand.path(key), ca: ca === undefined ? undefined : expand.path(ca), ciphers: get('ciphers', asString) ?? INTERMEDIATE_CIPHERS }
      : undefined;
  if (tls && redirectHttp) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('redirect-http').where, key: 'redirect-http', detail: 'a TLS vhost cannot redirect to itself: put "redirect-http" on a plain vhost of the same name on another port' }));
  }
  return { tls, sts, ignoreMissingCert: get('ignore-missing-cert', asBool) ?? false, redirectHttp };
}

export type TlsFileProblem = { readonly file: string; readonly reason: string };

/** The first unreadable or unparsable TLS file of a vhost, if any. */
export function checkTlsFiles(tls: TlsConfig, parse: (pem: string, kind: 'cert' | 'key') => void): TlsFileProblem | undefined {
  const files: [string, 'cert' | 'key'][] = [[tls.cert, 'cert'], [tls.key, 'key'], ...(tls.ca ? [[tls.ca, 'cert'] as [string, 'cert']] : [])];
  for (const [file, kind] of files) {
    let pem: string;
    try {
      pem = fs.readFileSync(file, 'utf8');
    } catch (err) {
      return { file, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message };
    }
    try {
      parse(pem, kind);
    } catch (err) {
      return { file, reason: `not a PEM ${kind === 'cert' ? 'certificate' : 'private key'} (${(err as Error).message})` };
    }
  }
  return undefined;
}
