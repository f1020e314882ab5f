/** @module Reads <dir>/conf and <dir>/conf.d/* as lwsws does and returns the typed model plus every diagnostic. */
import fs from 'node:fs';
import path from 'node:path';
import { TswsError, describeError, tswsError } from '../base/errors.ts';
import { Diagnostics, Site, isPlainObject } from './coerce.ts';
import { displayPath } from './display-path.ts';
import { buildGlobal } from './global-block.ts';
import type { ReadContext } from './key-spec.ts';
import { parseLwswsJson, type ParsedDocument } from './lwsws-json.ts';
import { listenerKey, where, type MetricsConfig, type ServerConfig, type VhostConfig } from './model.ts';
import { checkKeys, type Written } from './read-block.ts';
import { GLOBAL_KEYS, MOUNT_KEYS, TOP_LEVEL_KEYS, VHOST_KEYS } from './schema.ts';
import { nearest } from './suggest.ts';
import { buildVhost } from './vhost-block.ts';

export interface LoadOptions {
  readonly configDir: string;
  /** What `_lws_ddir_` expands to. */
  readonly dataDir: string;
  /** tsws's own plugins/, always searched first. */
  readonly shippedPluginDir: string;
}

export interface LoadResult {
  /** Undefined when diagnostics has errors. */
  readonly config: ServerConfig | undefined;
  readonly diagnostics: Diagnostics;
}

const DATA_DIR_TOKEN = '_lws_ddir_';

/** lwsws skips editor backups and hidden files in conf.d. */
function isConfigFileName(name: string): boolean {
  return !name.startsWith('.') && !name.includes('~');
}

export function listConfigFiles(configDir: string): string[] {
  const confd = path.join(configDir, 'conf.d');
  const files = [path.join(configDir, 'conf')];
  if (fs.existsSync(confd)) {
    for (const entry of fs.readdirSync(confd, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if ((entry.isFile() || entry.isSymbolicLink()) && isConfigFileName(entry.name)) files.push(path.join(confd, entry.name));
    }
  }
  return files;
}

export function loadConfig(opts: LoadOptions): LoadResult {
  const diag = new Diagnostics();
  const configDir = path.resolve(opts.configDir);
  const fail = (err: TswsError): LoadResult => {
    diag.add(err);
    return { config: undefined, diagnostics: diag };
  };
  try {
    if (!fs.statSync(configDir).isDirectory()) return fail(tswsError('TSWS_ERR_CONFIG_DIR', { dir: configDir, reason: 'not a directory' }));
  } catch (err) {
    return fail(tswsError('TSWS_ERR_CONFIG_DIR', { dir: configDir, reason: describeError(err) }, err));
  }

  const files = listConfigFiles(configDir);
  const docs: ParsedDocument[] = [];
  for (const file of files) {
    const shown = displayPath(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      diag.add(tswsError('TSWS_ERR_CONFIG_READ', { file: shown, reason: describeError(err) }, err));
      continue;
    }
    try {
      docs.push(parseLwswsJson(text, shown));
    } catch (err) {
      if (err instanceof TswsError) diag.add(err);
      else throw err;
    }
  }
  return buildConfig(docs, files, configDir, opts, diag);
}

/** What a document of a configuration holds, by the name its findings show (a file's path, or a name of your own). */
export interface ConfigText {
  readonly file: string;
  readonly text: string;
}

/**
 * A configuration given as text rather than read from a directory:
 * tsws/testing's protocol kit writes its vhost in code. `configDir` is only
 * what relative paths resolve against. Read as the files would be, with the
 * same findings.
 */
export function configFromTexts(opts: LoadOptions, texts: readonly ConfigText[]): LoadResult {
  const diag = new Diagnostics();
  const docs: ParsedDocument[] = [];
  for (const { file, text } of texts) {
    try {
      docs.push(parseLwswsJson(text, file));
    } catch (err) {
      if (err instanceof TswsError) diag.add(err);
      else throw err;
    }
  }
  return buildConfig(docs, texts.map((t) => t.file), path.resolve(opts.configDir), opts, diag);
}

function buildConfig(docs: readonly ParsedDocument[], files: readonly string[], configDir: string, opts: LoadOptions, diag: Diagnostics): LoadResult {
  const ctx: ReadContext = {
    expand: {
      text: (v) => v.split(DATA_DIR_TOKEN).join(opts.dataDir),
      path: (v) => path.resolve(configDir, v.split(DATA_DIR_TOKEN).join(opts.dataDir)),
    },
  };

  // The global block may be spread over several files: the last value written of each key wins.
  const globalRaw = new Map<string, Written>();
  const vhosts: VhostConfig[] = [];
  for (const doc of docs) {
    const root = new Site(doc, [], diag);
    for (const dup of doc.duplicates) {
      diag.add(tswsError('TSWS_WARN_CONFIG_DUPLICATE_KEY', {
        where: `${doc.file}:${dup.second.line}:${dup.second.col}`,
        key: String(dup.path[dup.path.length - 1]),
        first: `line ${dup.first.line}`,
      }));
    }
    if (!isPlainObject(doc.value)) {
      diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: root.where, key: '(file)', expected: 'an object holding "global" and/or "vhosts"', got: typeof doc.value }));
      continue;
    }
    for (const key of Object.keys(doc.value)) {
      if (key in TOP_LEVEL_KEYS) continue;
      const suggestion = nearest(key, Object.keys(TOP_LEVEL_KEYS));
      diag.add(tswsError('TSWS_ERR_CONFIG_UNKNOWN_KEY', { where: root.at(key).where, key, block: 'top-level', ...(suggestion ? { suggestion } : {}) }));
    }
    const g = doc.value.global;
    if (g !== undefined) {
      const gsite = root.at('global');
      if (!isPlainObject(g)) {
        diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: gsite.where, key: 'global', expected: 'an object', got: typeof g }));
      } else {
        const use = checkKeys(g, gsite, 'global', GLOBAL_KEYS, [{ name: 'a vhost block (conf.d/)', keys: VHOST_KEYS }, { name: 'a mount', keys: MOUNT_KEYS }]);
        for (const key of use) {
          const prior = globalRaw.get(key);
          if (prior && prior.site.doc !== doc) {
            diag.add(tswsError('TSWS_WARN_CONFIG_DUPLICATE_KEY', { where: gsite.at(key).where, key, first: prior.site.where }));
          }
          globalRaw.set(key, { value: g[key], site: gsite.at(key) });
        }
      }
    }
    const v = doc.value.vhosts;
    if (v !== undefined) {
      const vsite = root.at('vhosts');
      if (!Array.isArray(v)) {
        diag.add(tswsError('TSWS_ERR_CONFIG_TYPE', { where: vsite.where, key: 'vhosts', expected: 'an array of vhost objects', got: typeof v }));
      } else {
        v.forEach((raw, i) => {
          const vh = buildVhost(raw, vsite.at(i), ctx);
          if (vh) vhosts.push(vh);
        });
      }
    }
  }

  const global = buildGlobal(globalRaw, ctx, opts.shippedPluginDir);
  if (vhosts.length === 0 && diag.errors.length === 0) diag.add(tswsError('TSWS_ERR_CONFIG_NO_VHOSTS', { dir: configDir }));
  checkListeners(vhosts, diag);
  if (global.metrics) checkMetricsPort(global.metrics, vhosts, diag);

  if (diag.errors.length > 0) return { config: undefined, diagnostics: diag };
  return {
    config: { configDir, dataDir: opts.dataDir, files, global, vhosts },
    diagnostics: diag,
  };
}

/**
 * Vhosts on one port share one listening socket and are told apart by Host.
 * They must therefore agree on the interface: lws would silently bind twice.
 * Port 0 asks the OS for a port: vhosts naming it on the same interface share
 * one such listener, on different interfaces they get one each.
 */
function checkListeners(vhosts: readonly VhostConfig[], diag: Diagnostics): void {
  const byPort = new Map<number, { vh: VhostConfig; iface: string | undefined }>();
  const names = new Map<string, VhostConfig>();
  const tlsOf = new Map<string, VhostConfig>();
  for (const vh of vhosts) {
    const here = `${vh.source.file}:${vh.source.line}:${vh.source.col}`;
    for (const addr of vh.listens) {
      const listener = listenerKey(addr);
      const key = `${listener}/${vh.name.toLowerCase()}`;
      const dup = names.get(key);
      if (dup) diag.add(tswsError('TSWS_ERR_CONFIG_DUPLICATE_VHOST', { where: here, name: vh.name, listener, first: `${dup.source.file}:${dup.source.line}` }));
      names.set(key, vh);
      // One listening socket is either TLS or plain: uWS.js cannot serve both on one port.
      const other = tlsOf.get(listener);
      if (other && Boolean(other.tls) !== Boolean(vh.tls)) {
        diag.add(tswsError('TSWS_ERR_CONFIG_TLS_MIX', { where: here, listener, tls: (vh.tls ? vh : other).name, plain: (vh.tls ? other : vh).name }));
      }
      tlsOf.set(listener, other ?? vh);
      // Port 0 on different interfaces is two listeners, each with its own OS-picked port.
      if (addr.unixSocket || addr.port === 0) continue;
      const prior = byPort.get(addr.port);
      if (prior && (prior.iface ?? '*') !== (addr.iface ?? '*')) {
        diag.add(tswsError('TSWS_ERR_CONFIG_LISTENER_CONFLICT', {
          where: here,
          port: addr.port,
          a: `${prior.iface ?? 'all interfaces'} (vhost "${prior.vh.name}")`,
          b: `${addr.iface ?? 'all interfaces'} (vhost "${vh.name}")`,
        }));
      }
      if (!prior) byPort.set(addr.port, { vh, iface: addr.iface });
    }
  }
}

/** The metrics listener binds exclusively, like every listener: a vhost port cannot be shared with it. */
function checkMetricsPort(metrics: MetricsConfig, vhosts: readonly VhostConfig[], diag: Diagnostics): void {
  if (!metrics.port) return;
  const clash = vhosts.find((vh) => vh.listens.some((a) => !a.unixSocket && a.port === metrics.port));
  if (clash) {
    diag.add(tswsError('TSWS_ERR_CONFIG_VALUE', {
      where: where(metrics.source),
      key: 'port',
      detail: `port ${metrics.port} is also vhost "${clash.name}"'s (${clash.source.file}:${clash.source.line}): the metrics listener needs a port of its own, or leave "port" out to serve "path" on every vhost`,
    }));
  }
}
