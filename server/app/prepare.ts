/** @module Loads config and plugins and checks them against each other: everything `--check` does, nothing that listens. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Diagnostics } from '../config/coerce.ts';
import { loadConfig } from '../config/loader.ts';
import { where, type MountConfig, type ServerConfig, type VhostConfig, type WsCompression } from '../config/model.ts';
import { describeError, TswsError, tswsError } from '../base/errors.ts';
import { resolveIdentity, type Identity } from './privileges.ts';
import { checkTlsFiles } from '../config/vhost-transport.ts';
import { loadServerPlugins, type ServerPlugins, type ShadowedProtocol } from '../plugin/shipped.ts';
import { resolveOptions } from '../plugin/options.ts';
import type { RuntimeProtocol } from '../plugin/runtime-protocol.ts';
import { DEFAULT_DATA_DIR, SHIPPED_PLUGIN_DIR } from '../base/paths.ts';
import type { Logger } from '../base/log.ts';
import { checkMountExtras } from '../http/check-mount.ts';

export interface PrepareOptions {
  readonly configDir: string;
  readonly dataDir?: string;
  /** Bumped per reload so changed plugin files are imported afresh. */
  readonly generation?: number;
}

/** A configuration ready to serve: every vhost's protocols resolved to loaded plugins and typed options. */
export interface Prepared {
  /** Vhosts skipped for a missing certificate (ignore-missing-cert) are no longer in it. */
  readonly config: ServerConfig;
  /** Whom to become after start-up, or why that cannot happen here (unknown user or group). */
  readonly identity: Identity | TswsError | undefined;
  /** The vhosts to serve, in config order, each carrying its own protocols. */
  readonly vhosts: readonly PreparedVhost[];
}

export interface PreparedVhost {
  readonly config: VhostConfig;
  /** By name, in the order listed: the protocols of this vhost that a plugin provides. */
  readonly protocols: ReadonlyMap<string, EnabledProtocol>;
}

/** One protocol on one vhost: its plugin and its options, typed by the plugin's option specs. */
export interface EnabledProtocol {
  readonly plugin: RuntimeProtocol;
  readonly options: Readonly<Record<string, unknown>>;
  /** The operator's limit for this protocol on this vhost ("ws-max-message-size" in its entry), if any. */
  readonly maxMessageSize: number | undefined;
  /** The operator's permessage-deflate for this protocol on this vhost ("permessage-deflate" in its entry), if any. */
  readonly compression: WsCompression | undefined;
}

export interface PrepareResult {
  readonly prepared: Prepared | undefined;
  readonly errors: readonly TswsError[];
  readonly warnings: readonly TswsError[];
  readonly pluginFiles: readonly string[];
  /** Your plugin files, not tsws's shipped ones (what --check type-checks). */
  readonly userPluginFiles: readonly string[];
  /** Shipped protocols your plugins replace (plugin/shipped.ts says why this is no --check warning). */
  readonly shadowed: readonly ShadowedProtocol[];
}

/** Says, for start-up and each reload, which shipped protocol a plugin of yours replaces, with both files. */
export function logShadowed(log: Logger, result: PrepareResult): void {
  for (const s of result.shadowed) {
    log.warn({ event: 'plugin-replaces-shipped', protocol: s.protocol, yours: s.yours, shipped: s.shipped }, `protocol "${s.protocol}": your plugin ${s.yours} replaces tsws's ${s.shipped}`);
  }
}

export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const { config, diagnostics } = loadConfig({
    configDir: opts.configDir,
    dataDir: opts.dataDir ?? DEFAULT_DATA_DIR,
    shippedPluginDir: SHIPPED_PLUGIN_DIR,
  });
  if (!config) return { prepared: undefined, errors: diagnostics.errors, warnings: diagnostics.warnings, pluginFiles: [], userPluginFiles: [], shadowed: [] };

  const plugins = await loadServerPlugins(config.global.pluginDirs, protocolsNamed(config.vhosts), opts.generation ?? 0);
  return prepareWith(config, diagnostics, plugins);
}

/**
 * The checks of a loaded configuration against its plugins, whatever loaded
 * them: prepare() imports plugin files, tsws/testing's protocol kit hands
 * over a plugin it was given as an object. `diagnostics` holds the
 * configuration's findings and gets these.
 */
export function prepareWith(config: ServerConfig, diagnostics: Diagnostics, plugins: ServerPlugins): PrepareResult {
  for (const e of plugins.errors) diagnostics.add(e);
  for (const w of plugins.warnings) diagnostics.add(w);

  const served = config.vhosts.filter((vh) => checkTls(vh, diagnostics));
  const vhosts = served.map((vh) => ({ config: vh, protocols: checkVhost(vh, plugins.protocols, diagnostics, config.configDir, plugins.available) }));
  if (diagnostics.errors.length === 0) runProtocolChecks(vhosts, config.global.cluster !== undefined, diagnostics);

  // Checked here so --check can tell; whether it is fatal is start-up's decision (the config may be for another machine).
  const identity = resolveIdentity(config.global.privileges);
  if (identity instanceof TswsError) diagnostics.add(tswsError('TSWS_WARN_PRIV_CHECK', { detail: identity.detail }));

  const ok = diagnostics.errors.length === 0;
  return {
    prepared: ok ? { config: served.length === config.vhosts.length ? config : { ...config, vhosts: served }, identity, vhosts } : undefined,
    errors: diagnostics.errors,
    warnings: diagnostics.warnings,
    pluginFiles: plugins.files,
    userPluginFiles: plugins.userFiles,
    shadowed: plugins.shadowed,
  };
}

/** Every protocol a vhost names: in ws-protocols, or as a callback:// mount's origin (a shipped one is loaded only if named). */
function protocolsNamed(vhosts: readonly VhostConfig[]): Set<string> {
  const names = new Set<string>();
  for (const vh of vhosts) {
    for (const p of vh.protocols) names.add(p.name);
    for (const m of vh.mounts) if (m.origin.kind === 'callback') names.add(m.origin.protocol);
  }
  return names;
}

/** Each enabled protocol's own `check` (a file another process holds, say): a throw is an error naming vhost and protocol. */
function runProtocolChecks(vhosts: readonly PreparedVhost[], clustered: boolean, diag: Diagnostics): void {
  for (const { config: vh, protocols } of vhosts) {
    for (const [name, { plugin, options }] of protocols) {
      try {
        plugin.check?.(options, { vhostName: vh.name, clustered });
      } catch (err) {
        diag.add(err instanceof TswsError ? err : tswsError('TSWS_ERR_PLUGIN_CHECK_FAILED', { vhost: vh.name, protocol: name, reason: describeError(err) }, err));
      }
    }
  }
}

/** Reads and parses the certificate, key and CA of a TLS vhost; false when it is to be skipped. */
function checkTls(vh: VhostConfig, diag: Diagnostics): boolean {
  if (!vh.tls) return true;
  const problem = checkTlsFiles(vh.tls, (pem, kind) => (kind === 'cert' ? new crypto.X509Certificate(pem) : crypto.createPrivateKey(pem)));
  if (!problem) return true;
  const params = { where: where(vh.source), vhost: vh.name, file: problem.file, reason: problem.reason };
  diag.add(vh.ignoreMissingCert ? tswsError('TSWS_WARN_TLS_VHOST_SKIPPED', params) : tswsError('TSWS_ERR_TLS_FILE', params));
  return false;
}

function checkVhost(vh: VhostConfig, protocols: ReadonlyMap<string, RuntimeProtocol>, diag: Diagnostics, configDir: string, available: readonly string[]): Map<string, EnabledProtocol> {
  const out = new Map<string, EnabledProtocol>();
  const known = available.join(', ') || 'none';
  for (const p of vh.protocols) {
    const def = protocols.get(p.name);
    if (!def) {
      // lwsws ignores these silently; the seed's own config names several.
      diag.add(tswsError('TSWS_WARN_PROTOCOL_NOT_FOUND', { where: where(p.source), protocol: p.name, vhost: vh.name, known }));
      continue;
    }
    // A protocol listed twice on one vhost: the last entry wins, its options and its limit together.
    out.set(p.name, { plugin: def, options: resolveOptions(def.optionSpecs, p, diag, configDir), maxMessageSize: p.maxMessageSize, compression: p.compression });
  }
  for (const m of vh.mounts) checkMount(m, vh, protocols, diag);
  return out;
}

function checkMount(m: MountConfig, vh: VhostConfig, protocols: ReadonlyMap<string, RuntimeProtocol>, diag: Diagnostics): void {
  checkMountExtras(m, diag);
  const origin = m.origin;
  switch (origin.kind) {
    case 'file':
      if (!fs.existsSync(origin.root)) diag.add(tswsError('TSWS_WARN_MOUNT_ORIGIN_MISSING', { where: where(m.source), path: origin.root }));
      return;
    case 'callback': {
      const name = origin.protocol;
      if (!protocols.has(name)) diag.add(tswsError('TSWS_WARN_MOUNT_PROTOCOL_MISSING', { where: where(m.source), protocol: name }));
      else if (!vh.protocols.some((p) => p.name === name)) diag.add(tswsError('TSWS_ERR_CONFIG_MOUNT_PROTOCOL', { where: where(m.source), protocol: name, vhost: vh.name }));
      return;
    }
    case 'cgi':
    case 'proxy':
    case 'redirect':
      return; // checked by checkMountExtras
    case 'gzip':
      diag.add(tswsError('TSWS_WARN_MOUNT_NOT_IMPLEMENTED', { where: where(m.source), origin: m.originText }));
      return;
    default: {
      const never: never = origin;
      return never;
    }
  }
}
