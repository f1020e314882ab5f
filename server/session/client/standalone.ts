/** @module Client connections outside a server (a command-line program such as the tunnel agent): the same machine, with a scheduler and host of their own. */
import type { Logger } from 'pino';
import type { ClientConnectInfo, ClientConnOn } from '../../plugin/api-client.ts';
import { WritableScheduler } from '../scheduler.ts';
import { BEACON_CALLBACKS, registerHost, whereOf, type BeaconCallback } from '../../base/beacon.ts';
import { ClientSet } from './client-set.ts';

/** A client connection of a program without a vhost: its `vhost` is undefined. */
export type StandaloneConn<T = undefined> = ClientConnOn<T, undefined>;

/** What a program without a vhost gets: connect, and close everything at exit. */
export interface StandaloneClients {
  connect<T = undefined>(info: ClientConnectInfo<T, undefined>): StandaloneConn<T>;
  /** Every connection closed for good (1001 to an open one); later connects never start. */
  closeAll(): void;
}

/** A program's largest message from a server unless its connect says otherwise (a vhost's default, ws-max-message-size). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** `name` stands for the plugin, vhost and protocol in errors and logs (e.g. "tsws-tunnel"). */
export function standaloneClients(log: Logger, name: string): StandaloneClients {
  const id = registerHost({ vhost: '-', plugin: name, protocol: name });
  // Object.fromEntries types its keys as string: the map above has every BeaconCallback.
  const where = Object.fromEntries(BEACON_CALLBACKS.map((c) => [c, whereOf(id, c)])) as Record<BeaconCallback, number>;
  const set = new ClientSet({
    vhostName: '-',
    protocol: name,
    pluginName: name,
    maxMessageSize: MAX_MESSAGE,
    log,
    scheduler: new WritableScheduler(),
    where,
    counters: { callbackErrors: 0 },
  });
  return {
    connect: (info) => set.open(info, undefined),
    closeAll: () => set.cancelAll(),
  };
}
