/** @module Builds the GlobalConfig from the "global" keys of every file, read as one block. */
import path from 'node:path';
import { buildCluster } from './cluster-block.ts';
import type { ReadContext } from './key-spec.ts';
import { buildMetrics } from './metrics-block.ts';
import type { GlobalConfig } from './model.ts';
import { readValues, type Written } from './read-block.ts';
import { GLOBAL_KEYS } from './schema.ts';

/** `written`: each global key as last written, in any file; `shippedPluginDir` is searched before the configured ones. */
export function buildGlobal(written: ReadonlyMap<string, Written>, ctx: ReadContext, shippedPluginDir: string): GlobalConfig {
  const v = readValues(GLOBAL_KEYS, written, ctx);
  return {
    serverString: v['server-string'],
    pluginDirs: [...new Set([path.resolve(shippedPluginDir), ...v['plugin-dir']])],
    countThreads: v['count-threads'],
    channelIdleMax: v['channel-idle-max'],
    wsPingPongSecs: v['ws-pingpong-secs'],
    wsMessageTimeoutSecs: v['ws-message-timeout-secs'],
    wsMaxMessageSize: v['ws-max-message-size'],
    logLevel: v['log-level'],
    cluster: v.cluster && buildCluster(v.cluster, ctx),
    privileges: { uid: v.uid, gid: v.gid, username: v.username, groupname: v.groupname },
    timeoutSecs: v['timeout-secs'],
    rejectServiceKeywords: v['reject-service-keywords'],
    ipLimitWsi: v['ip-limit-wsi'],
    watchdogSecs: v['watchdog-secs'],
    graceSecs: v['grace-secs'],
    metrics: v.metrics && buildMetrics(v.metrics, ctx),
  };
}
