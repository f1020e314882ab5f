/** @module The protocol kit's configuration: one vhost enabling the protocol under test, read and checked as tsws reads a conf.d file, with the plugin given as an object. */
import path from 'node:path';
import type { Prepared } from '../app/prepare.ts';
import { prepareWith } from '../app/prepare.ts';
import { tswsError, type TswsError } from '../base/errors.ts';
import { DEFAULT_DATA_DIR, SHIPPED_PLUGIN_DIR } from '../base/paths.ts';
import { configFromTexts } from '../config/loader.ts';
import type { AnyProtocolDef, Plugin, PluginDescriptor } from '../plugin/api.ts';
import { checkPluginModule } from '../plugin/loader.ts';
import type { RuntimeProtocol } from '../plugin/runtime-protocol.ts';

/** A protocol option as a vhost file gives it: lwsws strings ("3", "on") or plain JSON values. */
export type KitOptionValue = string | number | boolean;

export interface ProtocolKitOptions {
  /** Which protocol of the plugin is under test (default: its first). */
  readonly protocol?: string;
  /** Its options, as the vhost file's "ws-protocols" entry gives them: `{ greeting: 'hi' }`, `{ 'max-queue': 3 }`. */
  readonly options?: Readonly<Record<string, KitOptionValue>>;
  /**
   * More keys of the vhost block, by their lwsws names: "name" (default
   * "localhost"), "mounts", "ws-origins", "ws-max-message-size"... A
   * "ws-protocols" of your own replaces the kit's (to enable several
   * protocols of one plugin, each with its options).
   */
  readonly vhost?: Readonly<Record<string, unknown>>;
  /** More keys of the global block ("ip-limit-wsi", "timeout-secs"...). */
  readonly global?: Readonly<Record<string, unknown>>;
  /** What relative "path" options and mount origins resolve against (default: the working directory). */
  readonly configDir?: string;
  /** What `_lws_ddir_` expands to (default: tsws's share/). */
  readonly dataDir?: string;
}

/** What the kit serves: the configuration ready to start, and what it says about the protocol under test. */
export interface KitConfig {
  readonly prepared: Prepared;
  readonly warnings: readonly TswsError[];
  readonly protocol: RuntimeProtocol;
  readonly vhostName: string;
}

/** A bare protocol (apiVersion 1's defineProtocol) is a plugin of one protocol; a descriptor (definePlugin) holds its own. */
function descriptorOf(given: Plugin<unknown> | PluginDescriptor | AnyProtocolDef): unknown {
  if (typeof given === 'object' && given !== null && 'protocols' in given) return given;
  // A bare protocol has version 1's shape, ProtocolDef's.
  return { apiVersion: 1, protocols: [given] };
}

/** HTTP callbacks: a protocol with any of them is mounted at "/" unless the vhost names its own mounts. */
const answersHttp = (p: RuntimeProtocol) => Boolean(p.callbacks.http ?? p.callbacks.httpBody ?? p.callbacks.httpBodyCompletion ?? p.callbacks.httpWritable);

/**
 * Every check tsws makes of a plugin file (descriptor, protocols,
 * callbacks, option specs) and of a config (keys, types, option values, the
 * protocol's own `check`), with the same coded errors; a configuration that
 * fails throws TSWS_ERR_CONFIG_INVALID listing them.
 */
export function kitConfig(given: Plugin<unknown> | PluginDescriptor | AnyProtocolDef, opts: ProtocolKitOptions): KitConfig {
  const warnings: TswsError[] = [];
  const label = `testProtocol(${nameOf(given)})`;
  const runtime = checkPluginModule(label, { default: descriptorOf(given) }, warnings);
  const protocols = new Map(runtime.map((p) => [p.name, p]));
  const chosen = opts.protocol ?? (runtime[0] as RuntimeProtocol).name;
  const protocol = protocols.get(chosen);
  if (!protocol) throw tswsError('TSWS_ERR_KIT_PROTOCOL', { protocol: chosen, offered: [...protocols.keys()].map((n) => `"${n}"`).join(', ') });

  const vhostName = typeof opts.vhost?.name === 'string' ? opts.vhost.name : 'localhost';
  const vhost = {
    name: vhostName,
    port: '0',
    'ws-protocols': [{ [chosen]: opts.options ?? {} }],
    ...(answersHttp(protocol) ? { mounts: [{ mountpoint: '/', origin: `callback://${chosen}` }] } : {}),
    ...opts.vhost,
  };
  const global = {
    // No sweep: nothing here is silent but what the test makes so, and its timer would be real.
    'ws-message-timeout-secs': '0',
    // Every fake client comes from the same few addresses.
    'ip-limit-wsi': '0',
    ...opts.global,
  };
  const configDir = path.resolve(opts.configDir ?? '.');
  const loaded = configFromTexts({ configDir, dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, shippedPluginDir: SHIPPED_PLUGIN_DIR }, [
    { file: `${label} conf`, text: JSON.stringify({ global }, null, 2) },
    { file: `${label} vhost`, text: JSON.stringify({ vhosts: [vhost] }, null, 2) },
  ]);
  const result = loaded.config
    ? prepareWith(loaded.config, loaded.diagnostics, { protocols, errors: [], warnings, files: [], userFiles: [], available: [...protocols.keys()], shadowed: [] })
    : { prepared: undefined, errors: loaded.diagnostics.errors, warnings: loaded.diagnostics.warnings };
  if (!result.prepared) {
    const list = result.errors.map((e) => `${e.code}: ${e.detail}`).join('; ');
    throw tswsError('TSWS_ERR_CONFIG_INVALID', { source: label, count: result.errors.length, list });
  }
  return { prepared: result.prepared, warnings: result.warnings, protocol, vhostName };
}

/** For errors: the plugin's name, else its first protocol's (a version 2 plugin's protocols are a function: its name, or "plugin"). */
function nameOf(given: unknown): string {
  const g = given as { name?: unknown; protocols?: unknown } | null;
  const first: unknown = Array.isArray(g?.protocols) ? g.protocols[0] : undefined;
  const name = g?.name ?? (first as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : 'plugin';
}
