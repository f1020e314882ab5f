/** @module Builds one MountConfig from an element of a vhost's "mounts". */
import { tswsError } from '../base/errors.ts';
import { isPlainObject, type Site } from './coerce.ts';
import type { Expand, ReadContext } from './key-spec.ts';
import type { MountConfig, Origin } from './model.ts';
import { readBlock } from './read-block.ts';
import { MOUNT_KEYS, VHOST_KEYS } from './schema.ts';

/** uWS.js closes an HTTP connection idle this long between requests; it cannot be changed from JS. */
const UWS_HTTP_IDLE_SECS = 10;

const ORIGIN_SCHEMES = ['file://', 'cgi://', 'callback://', 'http://', 'https://', '>http://', '>https://', 'gzip://'] as const;

export function buildMount(raw: unknown, site: Site, ctx: ReadContext): MountConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'mounts[]', expected: 'an object', got: typeof raw }));
    return undefined;
  }
  const v = readBlock(raw, site, 'mount', MOUNT_KEYS, [{ name: 'the vhost block', keys: VHOST_KEYS }], ctx);
  const mountpoint = v.mountpoint;
  const originText = v.origin;
  if (mountpoint === undefined || originText === undefined) {
    for (const key of ['mountpoint', 'origin'] as const) {
      if (!(key in raw)) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key, block: 'a mount' }));
    }
    return undefined;
  }
  if (!mountpoint.startsWith('/')) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('mountpoint').where, key: 'mountpoint', detail: `"${mountpoint}" must start with "/"` }));
    return undefined;
  }
  const origin = parseOrigin(originText, site.at('origin'), ctx.expand);
  if (!origin) return undefined;
  const keepalive = v['keepalive-timeout'];
  // uWS.js's own idle timeout between requests (HTTP_IDLE_TIMEOUT_S): a longer one cannot be kept.
  if (keepalive > UWS_HTTP_IDLE_SECS) site.diag.add(tswsError('TSWS_WARN_MOUNT_KEEPALIVE_CUT', { where: site.at('keepalive-timeout').where, asked: keepalive, limit: UWS_HTTP_IDLE_SECS }));
  const sendsKeepAlive = keepalive > 0 && !v.headers.some(([k]) => k.toLowerCase() === 'keep-alive');

  return {
    mountpoint: mountpoint.length > 1 ? mountpoint.replace(/\/+$/, '') || '/' : mountpoint,
    origin,
    originText,
    defaultFile: v.default,
    cacheMaxAge: v['cache-max-age'],
    cacheReuse: v['cache-reuse'],
    cacheRevalidate: v['cache-revalidate'],
    cacheIntermediaries: v['cache-intermediaries'],
    cacheNo: v['cache-no'],
    exactMatch: v['exact-match'],
    noWsUpgrades: v['no-ws-upgrades'],
    cgiChdir: v['cgi-chdir'],
    extraMimetypes: v['extra-mimetypes'],
    basicAuth: v['basic-auth'],
    headers: sendsKeepAlive ? [...v.headers, ['Keep-Alive', `timeout=${Math.min(keepalive, UWS_HTTP_IDLE_SECS)}`]] : v.headers,
    cgiTimeout: v['cgi-timeout'],
    cgiEnv: v['cgi-env'],
    appendPath: v['append-path'],
    source: site.source,
  };
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
