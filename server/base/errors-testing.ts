/** @module Registry entries for tsws/testing's protocol kit (a test's misuse of it, or a protocol that never settles), spread into errors.ts's REGISTRY. */
import { error } from './error-entry.ts';

export const TESTING_ERRORS = {
  TSWS_ERR_KIT_PROTOCOL: error<{ protocol: string; offered: string }>(
    (p) => `testProtocol: the plugin has no protocol "${p.protocol}"; it has ${p.offered}`,
    'Name one of its protocols in `protocol`, or leave it out for the first.'),
  TSWS_ERR_KIT_CLIENT_STATE: error<{ client: number; protocol: string; action: string; state: string }>(
    (p) => `testProtocol: client #${p.client} ("${p.protocol}") cannot ${p.action}: ${p.state}`,
    'Look at client.status and client.closed first; after an asynchronous filter, `await kit.settle()` before using the client.'),
  TSWS_ERR_KIT_BUSY: error<{ detail: string }>(
    (p) => `testProtocol: the protocol never goes quiet: ${p.detail}`,
    'A writable that asks for another without writing, or a promise chain that never ends, keeps the framework busy for ever; the real server would spin on it too. Ask for writable only when there is something to write.'),
} as const;
