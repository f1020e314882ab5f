/** @module One configuration's running objects (protocol hosts, vhosts); a reload builds the next from the last. */
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import type { ChannelService } from '../channels/channels.ts';
import type { TopicRouter } from '../bus/topics.ts';
import type { ClusterScope } from '../cluster/scope.ts';
import type { AccessLogs } from '../vhost/access-log.ts';
import type { Counters } from '../metrics/counters.ts';
import type { ServerView } from '../plugin/api.ts';
import type { Prepared } from './prepare.ts';
import type { WritableScheduler } from '../session/scheduler.ts';
import { ProtocolHost } from '../session/protocol-host.ts';
import { PluginHost } from '../session/plugin-host.ts';
import type { RuntimePlugin } from '../plugin/runtime-protocol.ts';
import { Vhost } from '../vhost/vhost.ts';
import { SharedLimits } from '../session/shared-limits.ts';
import type { RateSync } from '../cluster/rate-sync.ts';
import type { VhostConfig } from '../config/model.ts';

export interface Generation {
  readonly number: number;
  readonly prepared: Prepared;
  readonly vhosts: readonly Vhost[];
  /** Every host made for this configuration, those whose init failed included (they destroy cleanly). */
  readonly hosts: readonly ProtocolHost[];
  /** The plugins' own states, one per vhost and plugin; each destroyed by the last of its protocol hosts. */
  readonly plugins: readonly PluginHost[];
  /** Each vhost's shared message limits (ws-rate-limit-address, ws-rate-limit-user), by vhost name. */
  readonly limits: ReadonlyMap<string, SharedLimits>;
}

export interface GenerationDeps {
  readonly scheduler: WritableScheduler;
  readonly topics: TopicRouter;
  readonly log: Logger;
  readonly accessLogs: AccessLogs;
  /** The process's counters, shared by every generation: a reload keeps counting. */
  readonly counters: Counters;
  /** The read-only view of the whole server plugins get as vhost.server. */
  readonly server: ServerView;
  /** What every host's timers run on. */
  readonly clock: Clock;
  /** vhost.channels' store and counters. */
  readonly channels: ChannelService;
  readonly cluster: ((vhost: string, protocol: string) => ClusterScope) | undefined;
  /** In a cluster: where the shared rate limits pool their spending (Redis). */
  readonly rateSync: RateSync | undefined;
}

/**
 * Protocol hosts are made afresh for every configuration, so a changed plugin
 * file or changed options take effect. When the previous configuration ran
 * the same protocol on a vhost of the same name, its init gets the old state
 * (`previous`) and may carry resources over. A plugin's own state (apiVersion
 * 2) is made the same way, once per vhost before the first of its protocols
 * there, its `previous` the old configuration's for the same vhost and plugin.
 */
export function buildGeneration(prepared: Prepared, deps: GenerationDeps, previous?: Generation): Generation {
  const hosts: ProtocolHost[] = [];
  const plugins: PluginHost[] = [];
  const vhosts: Vhost[] = [];
  const limits = new Map<string, SharedLimits>();
  for (const { config: vc, protocols } of prepared.vhosts) {
    const vhostLimits = sharedLimits(vc, deps, previous);
    if (vhostLimits) limits.set(vc.name, vhostLimits);
    const live = new Map<string, ProtocolHost>();
    const own = new Map<RuntimePlugin, PluginHost>();
    const pluginHost = (def: RuntimePlugin): PluginHost => {
      let host = own.get(def);
      if (!host) {
        host = new PluginHost(vc.name, def, { log: deps.log, server: deps.server, scheduler: deps.scheduler, clock: deps.clock });
        own.set(def, host);
        plugins.push(host);
        host.init(previous?.plugins.find((p) => p.vhostName === vc.name && p.plugin === def.name && p.def.file === def.file && p.live));
      }
      return host;
    };
    const vhostLimit = vc.wsMaxMessageSize ?? prepared.config.global.wsMaxMessageSize;
    for (const [name, { plugin, options, maxMessageSize, compression }] of protocols) {
      const messageLimits = { vhost: vhostLimit, protocol: maxMessageSize };
      const host = new ProtocolHost(vc.name, plugin, options, {
        scheduler: deps.scheduler, topics: deps.topics, log: deps.log, counters: deps.counters, server: deps.server, clock: deps.clock, channels: deps.channels, messageLimits, plugin: pluginHost(plugin.plugin),
        ...(vhostLimits ? { limits: vhostLimits } : {}),
        ...(compression ? { compression } : {}),
        ...(deps.cluster ? { cluster: deps.cluster } : {}),
      });
      hosts.push(host);
      const before = previous?.hosts.find((h) => h.vhostName === vc.name && h.protocol === name && h.live);
      if (host.init(before)) live.set(name, host);
    }
    // A plugin state none of its protocols took (their inits failed): nothing would ever release it.
    for (const p of own.values()) if (p.holders === 0) void p.destroy(previous ? 'reload' : 'stop');
    vhosts.push(new Vhost(vc, live, vc.accessLog ? deps.accessLogs.open(vc.accessLog) : undefined, deps.counters.http(vc.name)));
  }
  return { number: (previous?.number ?? 0) + 1, prepared, vhosts, hosts, plugins, limits };
}

/** A vhost's shared limits: the previous configuration's when unchanged, so a reload does not refill every bucket. */
function sharedLimits(vc: VhostConfig, deps: GenerationDeps, previous: Generation | undefined): SharedLimits | undefined {
  const specs = { address: vc.wsRateLimitAddress, user: vc.wsRateLimitUser };
  if (!specs.address && !specs.user) return undefined;
  const before = previous?.limits.get(vc.name);
  if (before?.sameAs(specs, deps.rateSync)) return before;
  return new SharedLimits(vc.name, specs, deps.clock, deps.rateSync, deps.log);
}
