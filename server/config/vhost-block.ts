/** @module Builds one VhostConfig (its mounts and ws-protocols) from a "vhosts" array element. */
import { tswsError } from '../errors.ts';
import { asBool, asInt, asPairList, asPlainPath, asString, asStringList, asStringMap, isPlainObject, type Site } from './coerce.ts';
import type { MountConfig, Origin, Pairs, ProtocolEnable, SourceRef, VhostConfig } from './model.ts';
import { GLOBAL_KEYS, MAX_MESSAGE_CEILING, MOUNT_KEYS, VHOST_KEYS, type KeyDef } from './schema.ts';
import { buildListens, buildTls } from './vhost-transport.ts';
import { nearest } from './suggest.ts';

export interface Expand {
  /** Expands `_lws_ddir_` and resolves relative paths against the config directory. */
  path(value: string): string;
  text(value: string): string;
}

/** uWS.js closes an HTTP connection idle this long between requests; it cannot be changed from JS. */
const UWS_HTTP_IDLE_SECS = 10;

/**
 * Reports unknown keys (with a suggestion), keys from another block (a
 * warning: the seed's global block carries the vhost key "interface"), and
 * lwsws keys tsws knows but does not implement (a warning). Returns the keys
 * that should be interpreted.
 */
export function checkKeys(
  obj: Record<string, unknown>,
  site: Site,
  block: string,
  keys: Readonly<Record<string, KeyDef>>,
  elsewhere: readonly { name: string; keys: Readonly<Record<string, KeyDef>> }[],
): Set<string> {
  const usable = new Set<string>();
  for (const key of Object.keys(obj)) {
    const def = keys[key];
    const keySite = site.at(key);
    if (def) {
      if (def.notImplemented) {
        site.diag.add(tswsError('TSWS_WARN_CONFIG_NOT_IMPLEMENTED', { where: keySite.where, key, note: def.notImplemented }));
      } else {
        usable.add(key);
      }
      continue;
    }
    const other = elsewhere.find((e) => e.keys[key] !== undefined);
    if (other) {
      site.diag.add(tswsError('TSWS_WARN_CONFIG_WRONG_PLACE', { where: keySite.where, key, block, belongs: other.name }));
      continue;
    }
    const suggestion = nearest(key, Object.keys(keys));
    site.diag.add(tswsError('TSWS_ERR_CONFIG_UNKNOWN_KEY', { where: keySite.where, key, block, ...(suggestion ? { suggestion } : {}) }));
  }
  return usable;
}

export function buildVhost(raw: unknown, site: Site, expand: Expand): VhostConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'vhosts[]', expected: 'an object', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const use = checkKeys(raw, site, 'vhost', VHOST_KEYS, [{ name: 'the global block (conf)', keys: GLOBAL_KEYS }, { name: 'a mount', keys: MOUNT_KEYS }]);
  const get = <T>(key: string, conv: (v: unknown, s: Site, k: string) => T | undefined): T | undefined =>
    use.has(key) ? conv(raw[key], site.at(key), key) : undefined;

  const name = get('name', asString) ?? 'default';
  const unixSocket = get('unix-socket', asBool) ?? false;
  const ifaceRaw = get('interface', asString);
  const iface = ifaceRaw === undefined ? undefined : unixSocket ? expand.path(ifaceRaw) : ifaceRaw;
  let port = get('port', (v, s, k) => asInt(v, s, k, 0, 65535));
  if (unixSocket) {
    if (!iface) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'interface', block: 'a unix-socket vhost (the socket path)' }));
    port ??= 0;
  } else if (port === undefined && !('port' in raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'port', block: `vhost "${name}"` }));
  }
  const accessLog = get('access-log', asString);
  const errorDocument404 = get('error-document-404', asString);
  const healthPath = get('health-path', asPlainPath);
  const headers = use.has('headers') ? headerPairs(raw.headers, site.at('headers')) : [];

  const mounts: MountConfig[] = [];
  if (use.has('mounts')) {
    const list = raw.mounts;
    if (!Array.isArray(list)) {
      site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.at('mounts').where, key: 'mounts', expected: 'an array of mount objects', got: typeof list }));
    } else {
      list.forEach((m, i) => {
        const mount = buildMount(m, site.at('mounts', i), expand);
        if (mount) mounts.push(mount);
      });
    }
  }
  const protocols = use.has('ws-protocols') ? buildProtocols(raw['ws-protocols'], site.at('ws-protocols'), expand) : [];
  const main = { port: port ?? 0, iface, unixSocket, source: site.source };
  const listens = buildListens(main, use.has('listen') ? raw.listen : undefined, site.at('listen'), expand);
  const tlsFields = buildTls(raw, use, site, expand);
  const origins = get('ws-origins', asStringList);
  const wsMaxMessageSize = get('ws-max-message-size', (v, s, k) => asInt(v, s, k, 1, MAX_MESSAGE_CEILING));

  if (site.diag.errors.length > errorsBefore) return undefined;
  return {
    name,
    port: port ?? 0,
    iface,
    unixSocket,
    accessLog: accessLog === undefined ? undefined : expand.path(accessLog),
    errorDocument404,
    healthPath,
    // lws's value, sent whenever "sts" is set (lws does not look at TLS either: behind a TLS-ending proxy
    // the plain vhost is what browsers reach over https). Carried with the configured headers so every response path sends it.
    headers: tlsFields.sts ? [...headers.filter(([k]) => k.toLowerCase() !== 'strict-transport-security'), ['Strict-Transport-Security', 'max-age=15768000; includeSubDomains']] : headers,
    listens,
    ...tlsFields,
    wsOrigins: origins,
    wsMaxMessageSize,
    mounts,
    protocols,
    source: site.source,
  };
}

const ORIGIN_SCHEMES = ['file://', 'cgi://', 'callback://', 'http://', 'https://', '>http://', '>https://', 'gzip://'] as const;

/** RFC 9110 token characters: what a header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A portable environment variable name (POSIX). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Header pairs whose names are tokens and whose values hold no line breaks (a header cannot be split by config). */
function headerPairs(raw: unknown, site: Site): Pairs {
  const pairs = asPairList(raw, site, 'headers') ?? [];
  return pairs.filter(([name, value]) => {
    const bad = !TOKEN.test(name) ? `"${name}" is not a valid header name` : /[\r\n\0]/.test(value) ? `the value of "${name}" holds a line break or NUL` : undefined;
    if (bad) site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key: 'headers', detail: bad }));
    return !bad;
  });
}

function envPairs(raw: unknown, site: Site): Pairs {
  const pairs = asPairList(raw, site, 'cgi-env') ?? [];
  return pairs.filter(([name, value]) => {
    const bad = !ENV_NAME.test(name) ? `"${name}" is not a valid environment variable name` : value.includes('\0') ? `the value of "${name}" holds a NUL` : undefined;
    if (bad) site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key: 'cgi-env', detail: bad }));
    return !bad;
  });
}

/** Proxy and redirect targets must be absolute http(s) URLs with a host. */
function checkUrl(url: string, site: Site): boolean {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed && parsed.hostname !== '' && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return true;
  site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key: 'origin', detail: `"${url}" is not an http(s) URL with a host (lws's "+" unix-socket origins are not supported)` }));
  return false;
}

function parseOrigin(text: string, site: Site, expand: Expand): Origin | undefined {
  const scheme = ORIGIN_SCHEMES.find((s) => text.startsWith(s));
  const rest = scheme ? text.slice(scheme.length) : '';
  switch (scheme) {
    case 'file://':
      return { kind: 'file', root: expand.path(rest) };
    case 'cgi://':
      return { kind: 'cgi', script: expand.path(rest) };
    case 'callback://':
      return { kind: 'callback', protocol: rest };
    case 'http://':
    case 'https://': {
      const url = expand.text(text);
      return checkUrl(url, site) ? { kind: 'proxy', url } : undefined;
    }
    case '>http://':
    case '>https://': {
      const url = expand.text(text.slice(1));
      return checkUrl(url, site) ? { kind: 'redirect', url } : undefined;
    }
    case 'gzip://':
      return { kind: 'gzip', path: expand.path(rest) };
    case undefined:
      site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', {
        where: site.where,
        key: 'origin',
        detail: `"${text}" has no supported scheme (expected one of ${ORIGIN_SCHEMES.join(', ')})`,
      }));
      return undefined;
  }
}

function buildMount(raw: unknown, site: Site, expand: Expand): MountConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'mounts[]', expected: 'an object', got: typeof raw }));
    return undefined;
  }
  const use = checkKeys(raw, site, 'mount', MOUNT_KEYS, [{ name: 'the vhost block', keys: VHOST_KEYS }]);
  const get = <T>(key: string, conv: (v: unknown, s: Site, k: string) => T | undefined): T | undefined =>
    use.has(key) ? conv(raw[key], site.at(key), key) : undefined;

  const mountpointRaw = get('mountpoint', asString);
  const originText = get('origin', asString);
  if (mountpointRaw === undefined || originText === undefined) {
    for (const key of ['mountpoint', 'origin'] as const) {
      if (!(key in raw)) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key, block: 'a mount' }));
    }
    return undefined;
  }
  if (!mountpointRaw.startsWith('/')) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('mountpoint').where, key: 'mountpoint', detail: `"${mountpointRaw}" must start with "/"` }));
    return undefined;
  }
  const origin = parseOrigin(originText, site.at('origin'), expand);
  if (!origin) return undefined;
  const extra = get('extra-mimetypes', asStringMap) ?? new Map<string, string>();
  const extraMimetypes = new Map<string, string>();
  for (const [ext, type] of extra) extraMimetypes.set((ext.startsWith('.') ? ext : `.${ext}`).toLowerCase(), type);
  const basicAuth = get('basic-auth', asString);
  const cgiChdir = get('cgi-chdir', asString);
  const keepalive = get('keepalive-timeout', (v, s, k) => asInt(v, s, k, 0)) ?? 0;
  // uWS.js's own idle timeout between requests (HTTP_IDLE_TIMEOUT_S): a longer one cannot be kept.
  if (keepalive > UWS_HTTP_IDLE_SECS) site.diag.add(tswsError('TSWS_WARN_MOUNT_KEEPALIVE_CUT', { where: site.at('keepalive-timeout').where, asked: keepalive, limit: UWS_HTTP_IDLE_SECS }));
  const headers: (readonly [string, string])[] = use.has('headers') ? [...headerPairs(raw.headers, site.at('headers'))] : [];
  if (keepalive > 0 && !headers.some(([k]) => k.toLowerCase() === 'keep-alive')) headers.push(['Keep-Alive', `timeout=${Math.min(keepalive, UWS_HTTP_IDLE_SECS)}`]);

  return {
    mountpoint: mountpointRaw.length > 1 ? mountpointRaw.replace(/\/+$/, '') || '/' : mountpointRaw,
    origin,
    originText,
    defaultFile: get('default', asString) ?? 'index.html',
    cacheMaxAge: get('cache-max-age', asInt) ?? 0,
    cacheReuse: get('cache-reuse', asBool) ?? false,
    cacheRevalidate: get('cache-revalidate', asBool) ?? false,
    cacheIntermediaries: get('cache-intermediaries', asBool) ?? false,
    cacheNo: get('cache-no', asBool) ?? false,
    exactMatch: get('exact-match', asBool) ?? false,
    noWsUpgrades: get('no-ws-upgrades', asBool) ?? false,
    cgiChdir: cgiChdir === undefined ? undefined : expand.path(cgiChdir),
    extraMimetypes,
    basicAuth: basicAuth === undefined ? undefined : expand.path(basicAuth),
    headers,
    cgiTimeout: get('cgi-timeout', (v, s, k) => asInt(v, s, k, 1)) ?? 5,
    cgiEnv: use.has('cgi-env') ? envPairs(raw['cgi-env'], site.at('cgi-env')) : [],
    appendPath: get('append-path', asBool) ?? false,
    source: site.source,
  };
}

/**
 * lwsws writes ws-protocols as an array of objects mapping protocol names to
 * option objects: [{"dumb-increment-protocol": {"status": "ok"}, ...}].
 * Order is kept: with no "default": "1", the first one listed is the default.
 */
function buildProtocols(raw: unknown, site: Site, expand: Expand): ProtocolEnable[] {
  const out: ProtocolEnable[] = [];
  const groups = Array.isArray(raw) ? raw : [raw];
  groups.forEach((group, gi) => {
    const gsite = Array.isArray(raw) ? site.at(gi) : site;
    if (!isPlainObject(group)) {
      site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: gsite.where, key: 'ws-protocols', expected: 'an array of {"protocol-name": {options}} objects', got: typeof group }));
      return;
    }
    for (const [name, opts] of Object.entries(group)) {
      const psite = gsite.at(name);
      if (!isPlainObject(opts)) {
        site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: psite.where, key: name, expected: 'an object of protocol options, e.g. {"status": "ok"}', got: typeof opts }));
        continue;
      }
      const options: Record<string, string> = {};
      const optionSources: Record<string, SourceRef> = {};
      for (const [k, v] of Object.entries(opts)) {
        const osite = psite.at(k);
        const s = asString(typeof v === 'boolean' ? (v ? '1' : '0') : v, osite, `${name}.${k}`);
        if (s === undefined) continue;
        // lwsws expands _lws_ddir_ in protocol options as in every vhost string.
        options[k] = expand.text(s);
        optionSources[k] = osite.source;
      }
      const isDefault = options.default !== undefined ? (asBool(options.default, psite.at('default'), `${name}.default`) ?? false) : false;
      const limit = options['ws-max-message-size'];
      const maxMessageSize = limit === undefined ? undefined : asInt(limit, psite.at('ws-max-message-size'), `${name}.ws-max-message-size`, 1, MAX_MESSAGE_CEILING);
      out.push({ name, isDefault, maxMessageSize, options, optionSources, source: psite.source });
    }
  });
  return out;
}
