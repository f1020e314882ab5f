/** @module What a client connection needs from the protocol on a vhost that opened it (a ProtocolHost gives it): nothing more. */
import type { Logger } from 'pino';
import type { ClientCallbacks } from '../../plugin/api-client.ts';
import type { WritableScheduler } from '../scheduler.ts';

/** Each client callback, and the connection's timers, as the watchdog's beacon and the error logs name them. */
export type ClientCallbackLabel = keyof ClientCallbacks<unknown, unknown> | 'timer';

export interface ClientHost {
  readonly vhostName: string;
  readonly protocol: string;
  readonly log: Logger;
  readonly scheduler: WritableScheduler;
  /** WHERE values for the watchdog's beacon, by callback. */
  readonly where: Readonly<Record<ClientCallbackLabel, number>>;
  readonly counters: { callbackErrors: number };
}

/** Where the connection is opened from: the plugin and its vhost and protocol, and the protocol's message limit there. */
export interface ClientOrigin {
  readonly pluginName: string;
  readonly vhostName: string;
  readonly protocol: string;
  readonly maxMessageSize: number;
}
