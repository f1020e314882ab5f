/**
 * @module apiVersion 1 protocols, checked and turned into the runtime's shape once, at load: the one
 * `session` made for connections and transactions alike, `checkAccess` as the HTTP gate saying 'allow'.
 */
import type { TswsError } from '../base/errors.ts';
import { CALLBACK_NAMES } from './api.ts';
import type { Conn, HttpTxn, ProtocolVhost } from './api-handles.ts';
import type { PeerRequest } from './api-request.ts';
import { badProtocol, checkSettings, checkTable } from './protocol-checks.ts';
import type { RuntimeCallbacks, RuntimePlugin, RuntimeProtocol } from './runtime-protocol.ts';

type V1Session = (vhost: ProtocolVhost, req: PeerRequest) => unknown;

/**
 * Version 1's callbacks table already has the runtime's names and
 * signatures, save checkAccess; its session factory took (vhost, req) where
 * the runtime makes a session from the connection or transaction, so it is
 * wrapped here, once per protocol: one more call per connection, nothing
 * per message.
 */
export function adaptV1(file: string, plugin: RuntimePlugin, raw: unknown, i: number, seen: Set<string>, warnings: TswsError[]): RuntimeProtocol {
  const bad = badProtocol(file, i);
  if (!raw || typeof raw !== 'object') throw bad('not an object');
  const p = raw as Record<string, unknown>;
  const settings = checkSettings(file, p, bad, seen, warnings);
  if (p.session !== undefined && typeof p.session !== 'function') throw bad('"session" must be a function');
  const table = checkTable(file, settings.name, p.callbacks, CALLBACK_NAMES, '', bad);
  const { checkAccess, ...same } = table as RuntimeCallbacks & { checkAccess?: RuntimeCallbacks['httpFilter'] };
  const session = p.session as V1Session | undefined;
  return {
    ...settings,
    file,
    pluginName: plugin.name,
    plugin,
    wsSession: session && ((conn: Conn) => session(conn.vhost, conn.request)),
    httpSession: session && ((txn: HttpTxn) => session(txn.vhost, txn.request)),
    httpGate: { accept: 'allow', name: 'checkAccess' },
    callbacks: { ...same, ...(checkAccess ? { httpFilter: checkAccess } : {}) },
  };
}
