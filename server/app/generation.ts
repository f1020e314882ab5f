/** @module One configuration's running objects (protocol hosts, vhosts); a reload builds the next from the last. */
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import type { TopicRouter } from '../bus/topics.ts';
import type { ClusterScope } from '../cluster/scope.ts';
import type { AccessLogs } from '../vhost/access-log.ts';
import type { Counters } from '../metrics/counters.ts';
import type { ServerView } from '../plugin/api.ts';
import type { Prepared } from './prepare.ts';
import type { WritableScheduler } from '../session/scheduler.ts';
import { ProtocolHost } from '../session/protocol-host.ts';
import { Vhost } from '../vhost/vhost.ts';

export interface Generation {
  readonly number: number;
  readonly prepared: Prepared;
  readonly vhosts: readonly Vhost[];
  /** Every host made for this configuration, those whose init failed included (they destroy cleanly). */
  readonly hosts: readonly ProtocolHost[];
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
  readonly cluster: ((vhost: string, protocol: string) => ClusterScope) | undefined;
}

/**
 * Protocol hosts are made afresh for every configuration, so a changed plugin
 * file or changed options take effect. When the previous configuration ran
 * the same protocol on a vhost of the same name, its init gets the old state
 * (`previous`) and may carry resources over.
 */
export function buildGeneration(prepared: Prepared, deps: GenerationDeps, previous?: Generation): Generation {
  const hosts: ProtocolHost[] = [];
  const vhosts: Vhost[] = [];
  for (const { config: vc, protocols } of prepared.vhosts) {
    const live = new Map<string, ProtocolHost>();
    const vhostLimit = vc.wsMaxMessageSize ?? prepared.config.global.wsMaxMessageSize;
    for (const [name, { plugin, options, maxMessageSize }] of protocols) {
      const messageLimits = { vhost: vhostLimit, protocol: maxMessageSize };
      const host = new ProtocolHost(vc.name, plugin, options, { scheduler: deps.scheduler, topics: deps.topics, log: deps.log, counters: deps.counters, server: deps.server, clock: deps.clock, messageLimits, ...(deps.cluster ? { cluster: deps.cluster } : {}) });
      hosts.push(host);
      const before = previous?.hosts.find((h) => h.vhostName === vc.name && h.protocol === name && h.live);
      if (host.init(before)) live.set(name, host);
    }
    vhosts.push(new Vhost(vc, live, vc.accessLog ? deps.accessLogs.open(vc.accessLog) : undefined, deps.counters.http(vc.name)));
  }
  return { number: (previous?.number ?? 0) + 1, prepared, vhosts, hosts };
}
