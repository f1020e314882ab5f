/** @module Builds one VhostConfig (its listen addresses, TLS, mounts and ws-protocols) from a "vhosts" array element. */
import { tswsError } from '../base/errors.ts';
import { asBool, asInt, asString, isPlainObject, type Site } from './coerce.ts';
import type { Expand, ReadContext } from './key-spec.ts';
import { WS_COMPRESSIONS, isWsCompression, where, type MountConfig, type ProtocolEnable, type SourceRef, type VhostConfig, type WsCompression } from './model.ts';
import { buildMount } from './mount-block.ts';
import { readBlock } from './read-block.ts';
import { GLOBAL_KEYS, MAX_MESSAGE_CEILING, MOUNT_KEYS, VHOST_KEYS } from './schema.ts';
import type { Nested } from './value-types.ts';
import { buildListens, buildTls } from './vhost-transport.ts';

/** lws's value, sent whenever "sts" is set. */
const STS = 'max-age=15768000; includeSubDomains';

export function buildVhost(raw: unknown, site: Site, ctx: ReadContext): VhostConfig | undefined {
  if (!isPlainObject(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'vhosts[]', expected: 'an object', got: typeof raw }));
    return undefined;
  }
  const errorsBefore = site.diag.errors.length;
  const v = readBlock(raw, site, 'vhost', VHOST_KEYS, [{ name: 'the global block (conf)', keys: GLOBAL_KEYS }, { name: 'a mount', keys: MOUNT_KEYS }], ctx);
  const { name, 'unix-socket': unixSocket } = v;
  // A Host header can never carry a control character (RFC 9110 field values), so such a vhost
  // is unreachable; and the name goes into logs and metric labels, where a NUL or a newline forges lines.
  const control = /[\u0000-\u001f\u007f]/.exec(name);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.at('name').where, key: 'name', detail: `${JSON.stringify(name)} contains the control character U+00${code.toUpperCase()}; a host name cannot` }));
  }
  const iface = v.interface === undefined ? undefined : unixSocket ? ctx.expand.path(v.interface) : v.interface;
  let port = v.port;
  if (unixSocket) {
    if (!iface) site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'interface', block: 'a unix-socket vhost (the socket path)' }));
    port ??= 0;
  } else if (port === undefined && !('port' in raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_MISSING_KEY', { where: site.where, key: 'port', block: `vhost "${name}"` }));
  }
  const mounts = v.mounts ? buildMounts(v.mounts, ctx, name) : [];
  const protocols = v['ws-protocols'] ? buildProtocols(v['ws-protocols'], ctx.expand) : [];
  const main = { port: port ?? 0, iface, unixSocket, source: site.source };
  const listens = buildListens(main, v.listen?.raw, site.at('listen'), ctx.expand);
  const tlsFields = buildTls(v, site);

  if (site.diag.errors.length > errorsBefore) return undefined;
  return {
    name,
    port: port ?? 0,
    iface,
    unixSocket,
    accessLog: v['access-log'],
    errorDocument404: v['error-document-404'],
    healthPath: v['health-path'],
    // Sent whenever "sts" is set, as lws does (lws does not look at TLS either: behind a TLS-ending proxy
    // the plain vhost is what browsers reach over https). Carried with the configured headers so every response path sends it.
    headers: tlsFields.sts ? [...v.headers.filter(([k]) => k.toLowerCase() !== 'strict-transport-security'), ['Strict-Transport-Security', STS]] : v.headers,
    listens,
    ...tlsFields,
    wsOrigins: v['ws-origins'],
    wsMaxMessageSize: v['ws-max-message-size'],
    wsRateLimitAddress: v['ws-rate-limit-address'],
    wsRateLimitUser: v['ws-rate-limit-user'],
    mounts,
    protocols,
    source: site.source,
  };
}

/**
 * Mount lookup takes the first mount whose mountpoint matches, so a second
 * mount at the same (normalized) mountpoint could never be reached: an
 * error, at the second one's line, naming the first's. An "exact-match" one
 * beside a prefix one at the same mountpoint is fine: each gets requests.
 */
function buildMounts({ raw, site }: Nested, ctx: ReadContext, vhost: string): MountConfig[] {
  if (!Array.isArray(raw)) {
    site.diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: site.where, key: 'mounts', expected: 'an array of mount objects', got: typeof raw }));
    return [];
  }
  const mounts = raw.map((m, i) => buildMount(m, site.at(i), ctx)).filter((m): m is MountConfig => m !== undefined);
  const first = new Map<string, MountConfig>();
  for (const m of mounts) {
    const key = `${m.exactMatch ? 'exact ' : ''}${m.mountpoint}`;
    const earlier = first.get(key);
    if (earlier) site.diag.add(tswsError('TSWS_ERR_CONFIG_DUPLICATE_MOUNT', { where: where(m.source), mountpoint: m.mountpoint, vhost, first: where(earlier.source) }));
    else first.set(key, m);
  }
  return mounts;
}

/**
 * lwsws writes ws-protocols as an array of objects mapping protocol names to
 * option objects: [{"dumb-increment-protocol": {"status": "ok"}, ...}].
 * Order is kept: with no "default": "1", the first one listed is the default.
 */
function buildProtocols({ raw, site }: Nested, expand: Expand): ProtocolEnable[] {
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
      const compression = readCompression(options['permessage-deflate'], psite.at('permessage-deflate'), name);
      out.push({ name, isDefault, maxMessageSize, compression, options, optionSources, source: psite.source });
    }
  });
  return out;
}

/**
 * lwsws has no such key: its main.c offers permessage-deflate on every vhost
 * and protocol alike. tsws is off unless asked, per protocol, in the words of
 * WS_COMPRESSIONS; lwsws-style "0" and "1" read as off and shared.
 */
function readCompression(raw: string | undefined, site: Site, protocol: string): WsCompression | undefined {
  if (raw === undefined) return undefined;
  const word = raw === '0' ? 'off' : raw === '1' ? 'shared' : raw;
  if (isWsCompression(word)) return word;
  site.diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', { where: site.where, key: `${protocol}.permessage-deflate`, detail: `"${raw}" is not one of ${WS_COMPRESSIONS.map((w) => `"${w}"`).join(', ')}` }));
  return undefined;
}
