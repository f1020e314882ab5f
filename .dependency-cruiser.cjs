/** @module The layers of server/, written once, bottom to top, and the rules dependency-cruiser enforces from them (test/layers.test.ts runs it). */
'use strict';

/**
 * A folder of server/ may import its own folder and the folders listed
 * before it, never one listed after it. Top-level files (main.ts,
 * lifecycle.ts) are the wiring and sit above everything; nothing imports them.
 */
const LAYERS = [
  'base', //       errors, log, paths, OS limits, locks, the watchdog beacon: imports nothing of ours
  'config', //     the lwsws files read into typed config
  'transport', //  uWebSockets.js behind one adapter (and the fake for unit tests)
  'metrics', //    counters and their Prometheus rendering
  'plugin', //     the plugin API types and the plugin loader
  'client-lib', // tsws/client: the channel client for browsers and Node (imports only the plugin API's frame types)
  'bus', //        publish/subscribe: in process, threads, Redis
  'cluster', //    state shared by instances through Redis
  'channels', //   vhost.channels: positions, history, resume, presence, on a store (process, threads, Redis)
  'session', //    a connection (served or client), its protocol host, the callback runner and scheduler
  'vhost', //      a vhost: its protocols and its access log
  'http', //       an HTTP exchange and the mounts (file, cgi, proxy, callback, redirect)
  'ingress', //    listeners, Host routing, the front door, upgrades, ops endpoints
  'app', //        one serving instance wired together; reload
  'threads', //    serving threads and their supervisor
  'init', //       `tsws init`: the project scaffold
  'testing', //    tsws/testing: a real server for a user's tests
];

const folder = (name) => `^server/${name}/`;

const upward = LAYERS.map((name, i) => ({
  name: `layer-${name}`,
  comment: `server/${name}/ may import only ${['itself', ...LAYERS.slice(0, i)].join(', ')}`,
  severity: 'error',
  from: { path: folder(name) },
  to: { path: [...LAYERS.slice(i + 1).map(folder), '^server/[^/]+\\.ts$'] },
}));

module.exports = {
  LAYERS,
  forbidden: [
    { name: 'no-cycle', severity: 'error', from: { path: '^server/' }, to: { circular: true } },
    {
      name: 'known-layer',
      comment: 'every folder of server/ is a layer listed in LAYERS',
      severity: 'error',
      from: { path: '^server/[^/]+/', pathNot: LAYERS.map(folder) },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
