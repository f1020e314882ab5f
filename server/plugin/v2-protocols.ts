/**
 * @module apiVersion 2 protocols, checked and turned into the runtime's shape at load: the websocket
 * and HTTP parts with their own sessions, and a connection's object (its methods the callbacks)
 * reached through one shared table of forwarders, made once for every protocol.
 */
import { describeError, tswsError, type TswsError } from '../base/errors.ts';
import { nearest } from '../config/suggest.ts';
import { HTTP_EVENTS, HTTP_KEYS, VHOST_CALLBACKS, WEBSOCKET_KEYS, WS_EVENTS } from './api.ts';
import type { Conn, HttpTxn, ProtocolVhost } from './api-handles.ts';
import type { HttpRequestInfo, PeerRequest } from './api-request.ts';
import type { HttpEvents, WsEvents } from './api-v2.ts';
import { SETTINGS_KEYS, badProtocol, checkFunction, checkSettings, checkTable, shown, type Bad } from './protocol-checks.ts';
import type { RuntimeCallbacks, RuntimePlugin, RuntimeProtocol } from './runtime-protocol.ts';

const PROTOCOL_KEYS: readonly string[] = [...SETTINGS_KEYS, ...VHOST_CALLBACKS, 'websocket', 'http'];

/* The plugin made these objects (websocket.connection, http.transaction) and
 * the loader cannot see their type; the maker's wrapper below checked each is
 * an object, and a method it lacks is skipped. */
const wsEvents = (conn: Conn) => conn.session as WsEvents;
const httpEvents = (txn: HttpTxn) => txn.session as HttpEvents;

/** A connection that is one object: each callback forwards to its method. One table for all protocols, no closure per connection or message. */
const WS_FORWARDERS: RuntimeCallbacks = {
  established: (conn) => wsEvents(conn).established?.(),
  receive: (conn, data, isBinary, fragment) => wsEvents(conn).receive?.(data, isBinary, fragment),
  writable: (conn) => wsEvents(conn).writable?.(),
  closed: (conn, code, reason) => wsEvents(conn).closed?.(code, reason),
};
const HTTP_FORWARDERS: RuntimeCallbacks = {
  http: (txn) => httpEvents(txn).http?.(),
  httpBody: (txn, chunk) => httpEvents(txn).httpBody?.(chunk),
  httpBodyCompletion: (txn) => httpEvents(txn).httpBodyCompletion?.(),
  httpWritable: (txn) => httpEvents(txn).httpWritable?.(),
  httpClosed: (txn, how) => httpEvents(txn).httpClosed?.(how),
};

/** The identity `protocol` a plugin's `protocols` function is given: the types were its whole job. */
const protocol = <T>(def: T): T => def;

/** Calls the plugin's `protocols` once and checks what it returns. */
export function listV2Protocols(file: string, protocols: unknown): unknown[] {
  const bad = (detail: string) => tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail });
  if (typeof protocols !== 'function') {
    throw bad(`apiVersion 2 wants "protocols" to be a function of \`protocol\` (protocols: (protocol) => [protocol({...})]); ${Array.isArray(protocols) ? 'an array is apiVersion 1\'s' : `got ${typeof protocols}`}`);
  }
  let list: unknown;
  try {
    list = (protocols as (define: typeof protocol) => unknown)(protocol);
  } catch (err) {
    throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `"protocols" threw: ${describeError(err)}` }, err);
  }
  if (!Array.isArray(list) || list.length === 0) throw bad('"protocols" must return a non-empty array');
  return list;
}

export function loadV2Protocol(file: string, plugin: RuntimePlugin, raw: unknown, i: number, seen: Set<string>, warnings: TswsError[]): RuntimeProtocol {
  const bad = badProtocol(file, i);
  if (!raw || typeof raw !== 'object') throw bad('not an object');
  const p = raw as Record<string, unknown>;
  const settings = checkSettings(file, p, bad, seen, warnings);
  const name = settings.name;
  checkKeys(p, bad);
  for (const k of VHOST_CALLBACKS) checkFunction(file, name, k, p[k]);
  const ws = checkTable(file, name, p.websocket, WEBSOCKET_KEYS, 'websocket.', bad);
  const http = checkTable(file, name, p.http, HTTP_KEYS, 'http.', bad);
  const wsObject = oneForm(file, name, 'websocket', ws, 'connection', WS_EVENTS);
  const httpObject = oneForm(file, name, 'http', http, 'transaction', HTTP_EVENTS);
  // checkTable vouched for each name and that each is a function; their signatures are the plugin's types, its compiler's business.
  const own = p as Pick<RuntimeCallbacks, 'init' | 'destroy'>;
  const wsTable = ws as Pick<RuntimeCallbacks, 'filter' | 'established' | 'receive' | 'writable' | 'closed'>;
  const httpTable = http as Pick<RuntimeCallbacks, 'http' | 'httpBody' | 'httpBodyCompletion' | 'httpWritable' | 'httpClosed'> & { readonly filter?: RuntimeCallbacks['httpFilter'] };
  const callbacks: RuntimeCallbacks = {
    init: own.init,
    destroy: own.destroy,
    filter: wsTable.filter,
    ...(wsObject ? WS_FORWARDERS : { established: wsTable.established, receive: wsTable.receive, writable: wsTable.writable, closed: wsTable.closed }),
    httpFilter: httpTable.filter,
    ...(httpObject
      ? HTTP_FORWARDERS
      : { http: httpTable.http, httpBody: httpTable.httpBody, httpBodyCompletion: httpTable.httpBodyCompletion, httpWritable: httpTable.httpWritable, httpClosed: httpTable.httpClosed }),
  };
  return {
    ...settings,
    file,
    pluginName: plugin.name,
    plugin,
    wsSession: wsObject ? objectMaker<Conn>(name, 'websocket.connection', wsObject) : tableSession(ws.session as TableSession<PeerRequest> | undefined),
    httpSession: httpObject ? objectMaker<HttpTxn>(name, 'http.transaction', httpObject) : tableSession(http.session as TableSession<HttpRequestInfo> | undefined),
    httpGate: { accept: 'accept', name: 'http.filter' },
    callbacks,
  };
}

/** Version 1 keys and misspellings are caught here: a v2 protocol with `callbacks` would otherwise load and never be called. */
function checkKeys(p: Record<string, unknown>, bad: Bad): void {
  for (const k of Object.keys(p)) {
    if (PROTOCOL_KEYS.includes(k)) continue;
    if (k === 'callbacks' || k === 'session') throw bad(`"${k}" is apiVersion 1's: in apiVersion 2 a protocol's callbacks and sessions go in its "websocket" and "http" parts (docs/guides/migrating-to-v2.md)`);
    const suggestion = nearest(k, PROTOCOL_KEYS);
    throw bad(`unknown key "${k}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
  }
}

/** A part is one object per connection (`maker`) or a callback table, never both: a table callback beside the maker would never run. */
function oneForm(file: string, protocol: string, part: string, table: Readonly<Record<string, unknown>>, maker: string, events: readonly string[]): ((owner: never) => unknown) | undefined {
  const fn = table[maker] as ((owner: never) => unknown) | undefined;
  if (!fn) return undefined;
  const beside = ['session', ...events].filter((k) => table[k] !== undefined);
  if (beside.length > 0) throw tswsError('TSWS_ERR_PLUGIN_MIXED_FORMS', { file: shown(file), protocol, part, maker, beside: beside.join(', ') });
  return fn;
}

type TableSession<R> = (vhost: ProtocolVhost, req: R) => unknown;

function tableSession<R>(session: TableSession<R> | undefined): ((owner: { readonly vhost: ProtocolVhost; readonly request: R }) => unknown) | undefined {
  return session && ((owner) => session(owner.vhost, owner.request));
}

/** The object maker, checked per connection: what is not an object has no methods to call, and refusing it now names the culprit. */
function objectMaker<O>(protocol: string, what: string, make: (owner: never) => unknown): (owner: O) => unknown {
  // checkTable found a function; what it takes is the plugin's business (the connection or transaction it is given).
  const maker = make as (owner: O) => unknown;
  return (owner) => {
    const made = maker(owner);
    if (typeof made !== 'object' || made === null) throw new Error(`protocol "${protocol}": ${what} returned ${made === null ? 'null' : typeof made}, not an object`);
    return made;
  };
}
