/** @module Registry entries for vhost.channels (positions, history, resume, presence), spread into errors.ts's REGISTRY. */
import { error } from './error-entry.ts';

type On = { vhost: string; protocol: string };

export const CHANNEL_ERRORS = {
  TSWS_ERR_CHANNEL_NAME: error<On & { name: string; reason: string }>(
    (p) => `vhost.channels.channel(${JSON.stringify(p.name.slice(0, 40))}) on vhost "${p.vhost}", protocol "${p.protocol}": ${p.reason}`,
    'Give a channel name of 1 to 200 characters, with no control characters (C0, DEL, C1) and no lone surrogates.'),
  TSWS_ERR_CHANNEL_OPTIONS: error<On & { name: string; reason: string }>(
    (p) => `channel "${p.name}" on vhost "${p.vhost}", protocol "${p.protocol}": ${p.reason}`,
    'history.size is an integer from 0 to 1000000, history.ttlSecs an integer of 0 or more; every channel() call for one name must give the same options (the first call decides).'),
  TSWS_ERR_CHANNEL_POSITION: error<On & { name: string; reason: string }>(
    (p) => `channel "${p.name}" on vhost "${p.vhost}", protocol "${p.protocol}": ${p.reason}`,
    'A position is { epoch: string, offset: integer >= 0 } as a publication or subscription gave it; a limit is an integer >= 1.'),
  TSWS_ERR_CHANNEL_CONNECTION: error<On & { name: string }>(
    (p) => `channel "${p.name}" on vhost "${p.vhost}", protocol "${p.protocol}": subscribe and presence take an open connection the framework made (the conn a callback received)`,
    'Pass the conn your callback was given, not an object of your own, from `established` on (not from a session maker, and not after `closed`).'),
  TSWS_ERR_CHANNEL_THREADS: error<{ op: string; reason: string }>(
    (p) => `channels: the main thread did not answer "${p.op}" (${p.reason})`,
    'The server is stopping or the main thread is overloaded; retry, and see the log for thread-exited lines.'),
} as const;
