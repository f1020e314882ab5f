/** @module The transport side of a vhost block: its listen addresses and its TLS settings. */
import fs from 'node:fs';
import { tswsError } from '../base/errors.ts';
import { asInt, asString, isPlainObject, type Site } from './coerce.ts';
import type { Expand } from './key-spec.ts';
import type { ListenAddress, TlsConfig } from './model.ts';
import type { VhostValues } from './schema.ts';

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
export function buildTls(v: VhostValues, site: Site): TlsFields {
  const cert = v['host-ssl-cert'];
  const key = v['host-ssl-key'];
  if ((cert === undefined) !== (key === undefined)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: cert === undefined ? 'host-ssl-cert' : 'host-ssl-key', block: 'a TLS vhost (certificate and key go together)' }));
  }
  const tls = cert !== undefined && key !== undefined ? { cert, key, ca: v['host-ssl-ca'], ciphers: v.ciphers } : undefined;
  if (tls && v['redirect-http']) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('redirect-http').where, key: 'redirect-http', detail: 'a TLS vhost cannot redirect to itself: put "redirect-http" on a plain vhost of the same name on another port' }));
  }
  return { tls, sts: v.sts, ignoreMissingCert: v['ignore-missing-cert'], redirectHttp: v['redirect-http'] };
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
