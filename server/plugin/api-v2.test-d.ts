/**
 * @module Type tests of the plugin API (checked by tsc, which `npm test` runs first): every state type
 * is inferred with no type arguments and no casts, the callback-name tuples equal the interfaces'
 * keys, wrong plugins do not compile, and apiVersion 1 plugins still type-check as they did.
 */
import { expectTypeOf } from 'vitest';
import {
  HTTP_EVENTS, HTTP_KEYS, VHOST_CALLBACKS, WEBSOCKET_KEYS, WS_EVENTS, CALLBACK_NAMES, definePlugin, defineProtocol,
  type ClientConn, type Conn, type HttpEvents, type HttpTable, type HttpTxn, type InitCallback, type HttpCallbacks, type Protocol, type ProtocolSettings,
  type Channel, type Channels, type NoOptions, type TswsError, type WsCallbacks, type WsEvents, type WsObject, type WsTable, type HttpObject,
} from './api.ts';
import { SETTINGS_KEYS } from './protocol-checks.ts';

// ---- the tuples the loader validates with are the types' keys -------------------

expectTypeOf<keyof WsEvents>().toEqualTypeOf<(typeof WS_EVENTS)[number]>();
expectTypeOf<keyof HttpEvents>().toEqualTypeOf<(typeof HTTP_EVENTS)[number]>();
expectTypeOf<keyof WsTable<unknown, unknown, unknown>>().toEqualTypeOf<(typeof WEBSOCKET_KEYS)[number]>();
expectTypeOf<keyof WsObject<unknown, unknown, unknown>>().toEqualTypeOf<(typeof WEBSOCKET_KEYS)[number]>();
expectTypeOf<keyof HttpTable<unknown, unknown, unknown>>().toEqualTypeOf<(typeof HTTP_KEYS)[number]>();
expectTypeOf<keyof HttpObject<unknown, unknown, unknown>>().toEqualTypeOf<(typeof HTTP_KEYS)[number]>();
expectTypeOf<keyof ProtocolSettings<NoOptions>>().toEqualTypeOf<(typeof SETTINGS_KEYS)[number]>();
expectTypeOf<Exclude<keyof Protocol<unknown, unknown, unknown, NoOptions, unknown>, keyof ProtocolSettings<NoOptions>>>().toEqualTypeOf<
  (typeof VHOST_CALLBACKS)[number] | 'websocket' | 'http'
>();
expectTypeOf<keyof (WsCallbacks<unknown, unknown> & HttpCallbacks<unknown, unknown> & InitCallback<unknown, unknown, NoOptions>)>().toEqualTypeOf<
  (typeof CALLBACK_NAMES)[number]
>();

// ---- a version 2 plugin: every state inferred ------------------------------------

const options = {
  greeting: { type: 'string', default: 'hello', doc: 'First words.' },
  limit: { type: 'int', doc: 'No default: may be undefined.' },
  loud: { type: 'bool', default: false, doc: 'A flag.' },
} as const;

/** A connection as one object, written as a class in its own file would be: it names only what it uses of the connection. */
class Echoer {
  readonly #conn: Pick<Conn, 'write' | 'requestWritable'>;
  #pending: Buffer[] = [];
  constructor(conn: Pick<Conn, 'write' | 'requestWritable'>) {
    this.#conn = conn;
  }
  receive(data: Buffer): void {
    this.#pending.push(data);
    this.#conn.requestWritable();
  }
  writable(): void {
    const next = this.#pending.shift();
    if (next) this.#conn.write(next);
  }
}

/** A transaction as one object. */
class Answer {
  constructor(readonly txn: HttpTxn) {}
  http(): void {
    this.txn.requestWritable();
  }
  httpWritable(): void {
    this.txn.writeHead(204, {}, { end: true });
  }
}

interface Rooms {
  readonly names: Set<string>;
}

export const complete = definePlugin({
  apiVersion: 2,
  name: 'complete',
  // The plugin's state on a vhost, shared by its protocols; it reads `previous`, so it names its type.
  init(vhost, previous): Rooms {
    expectTypeOf(vhost.vhostName).toEqualTypeOf<string>();
    expectTypeOf(previous).toEqualTypeOf<Rooms | undefined>();
    return previous ?? { names: new Set() };
  },
  destroy(vhost, why) {
    expectTypeOf(vhost.state).toEqualTypeOf<Rooms>();
    expectTypeOf(why).toEqualTypeOf<'stop' | 'reload'>();
  },
  protocols: (protocol) => [
    protocol({
      name: 'table',
      options,
      init(vhost, opts) {
        expectTypeOf(vhost.plugin).toEqualTypeOf<Rooms>();
        // vhost.channels from init on (apiVersion 1: test/channels/probe-plugin.ts uses it); a Conn is what subscribe takes.
        expectTypeOf(vhost.channels).toEqualTypeOf<Channels>();
        expectTypeOf<Conn>().toMatchTypeOf<Parameters<Channel['subscribe']>[0]>();
        expectTypeOf(opts.greeting).toEqualTypeOf<string>();
        expectTypeOf(opts.limit).toEqualTypeOf<number | undefined>();
        expectTypeOf(opts.loud).toEqualTypeOf<boolean>();
        // A client connection from init: its session is inferred from `session`.
        const upstream = vhost.connect({
          url: 'ws://127.0.0.1:1/',
          session: { sent: 0 },
          callbacks: {
            clientEstablished(c) {
              expectTypeOf(c.session.sent).toEqualTypeOf<number>();
            },
            clientConnectionError(_c, err) {
              expectTypeOf(err).toEqualTypeOf<TswsError>();
            },
          },
        });
        return { greeting: opts.greeting, upstream };
      },
      destroy(vhost) {
        expectTypeOf(vhost.state.greeting).toEqualTypeOf<string>();
      },
      websocket: {
        filter(req, vhost) {
          expectTypeOf(vhost.state.greeting).toEqualTypeOf<string>();
          return req.queryParam('token') === undefined ? { refuse: 401, headers: { 'www-authenticate': 'Bearer' } } : 'accept';
        },
        session: (vhost, req) => ({ outbox: [vhost.state.greeting], peer: req.peer }),
        established(conn) {
          expectTypeOf(conn.session).toEqualTypeOf<{ outbox: string[]; peer: string }>();
          expectTypeOf(conn.vhost.state.upstream).toEqualTypeOf<ClientConn<{ sent: number }, unknown, unknown, Rooms>>();
          expectTypeOf(conn.vhost.plugin).toEqualTypeOf<Rooms>();
          conn.requestWritable();
        },
        receive(conn, data, isBinary, fragment) {
          expectTypeOf(data).toEqualTypeOf<Buffer>();
          expectTypeOf(isBinary).toEqualTypeOf<boolean>();
          expectTypeOf(fragment.remaining).toEqualTypeOf<number>();
          conn.session.outbox.push(data.toString());
        },
        writable(conn) {
          expectTypeOf(conn.write('x')).toEqualTypeOf<'sent' | 'backpressure' | 'dropped'>();
          for (const other of conn.vhost.connections()) expectTypeOf(other.session.peer).toEqualTypeOf<string>();
        },
        closed(conn, code, reason) {
          expectTypeOf(code).toEqualTypeOf<number>();
          expectTypeOf(reason).toEqualTypeOf<string>();
          conn.vhost.plugin.names.delete(conn.session.peer);
        },
      },
      http: {
        filter: (req) => (req.headers.authorization ? 'accept' : { refuse: 401 }),
        session: () => ({ chunks: [] as Buffer[], answered: false }),
        httpBody(txn, chunk) {
          expectTypeOf(txn.session).toEqualTypeOf<{ chunks: Buffer[]; answered: boolean }>();
          expectTypeOf(txn.vhost.state.greeting).toEqualTypeOf<string>();
          txn.session.chunks.push(chunk);
        },
        httpClosed(txn, how) {
          expectTypeOf(how).toEqualTypeOf<'completed' | 'aborted'>();
          expectTypeOf(txn.vhost.plugin).toEqualTypeOf<Rooms>();
        },
      },
    }),
    protocol({
      name: 'objects',
      // Reads `previous`: names its return type.
      init(_vhost, _opts, previous): { readonly served: number } {
        return { served: previous?.served ?? 0 };
      },
      websocket: { connection: (conn) => new Echoer(conn) },
      http: { transaction: (txn) => new Answer(txn) },
    }),
    protocol({
      name: 'bare',
      websocket: {
        receive(conn) {
          expectTypeOf(conn.session).toEqualTypeOf<undefined>();
          expectTypeOf(conn.vhost.state).toEqualTypeOf<undefined>();
          expectTypeOf(conn.vhost.plugin).toEqualTypeOf<Rooms>();
        },
      },
    }),
  ],
});

// The object a connection maker returns is its session; the definer's result keeps every type.
const [, objects] = complete.protocols((def) => def) as readonly unknown[];
void objects;
export const oneProtocol = definePlugin({
  apiVersion: 2,
  protocols: (protocol) => {
    const p = protocol({ name: 'x', init: () => ({ n: 1 }), websocket: { connection: (conn) => new Echoer(conn) } });
    expectTypeOf(p).toEqualTypeOf<Protocol<{ n: number }, Echoer, undefined, NoOptions, undefined>>();
    return [p];
  },
});

// A maker that returns one of two kinds (the tunnel's: a node's link, or a relayed browser's stream).
export const twoKinds = definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    protocol({
      name: 'two-kinds',
      websocket: {
        connection(conn) {
          if (conn.request.path === '/echo') return new Echoer(conn);
          const events: WsEvents = { closed: () => undefined };
          return events;
        },
        filter: () => 'accept',
      },
      http: {
        transaction(txn) {
          expectTypeOf(txn.session).toEqualTypeOf<unknown>();
          return new Answer(txn);
        },
      },
    }),
  ],
});

// ---- what must not compile ------------------------------------------------------------

definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    // @ts-expect-error an init that reads `previous` without naming its return type: the state cannot be inferred.
    protocol({ name: 'a', init: (_vhost, _opts, previous) => ({ n: previous === undefined ? 0 : 1 }) }),
    // @ts-expect-error a websocket part is a table or one object per connection, not both.
    protocol({ name: 'b', websocket: { session: () => ({ a: 1 }), connection: () => ({ receive() {} }) } }),
    // @ts-expect-error a connection's object must have the callbacks' methods (with their signatures).
    protocol({ name: 'e', websocket: { connection: () => ({ count: 0 }) } }),
    // @ts-expect-error a method whose signature is not the callback's.
    protocol({ name: 'g', websocket: { connection: () => ({ receive(data: string) { void data; } }) } }),
    // @ts-expect-error 'allow' was version 1's word for an HTTP gate's yes: both gates say 'accept'.
    protocol({ name: 'c', http: { filter: () => 'allow' } }),
    // @ts-expect-error a misspelled callback.
    protocol({ name: 'd', websocket: { recieve() {} } }),
    // @ts-expect-error version 1's callbacks table.
    protocol({ name: 'f', callbacks: {} }),
  ],
});
// @ts-expect-error version 2's protocols are a function of `protocol`, not an array.
definePlugin({ apiVersion: 2, protocols: [] });

// ---- version 1 plugins type-check as they did ------------------------------------------

// README's 20-line plugin, as it was written for apiVersion 1.
export const readmeV1 = definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol({
      name: 'upper',
      session: () => ({ outbox: [] as string[] }),
      callbacks: {
        receive(conn, data) {
          conn.session.outbox.push(data.toString().toUpperCase());
          conn.requestWritable();
        },
        writable(conn) {
          const next = conn.session.outbox.shift();
          if (next !== undefined) conn.write(next);
        },
        checkAccess: () => 'allow',
      },
    }),
  ],
});

// Without generics, from an init method (as test/client-plugins/client-probe.ts is written): it compiles
// as before. (Version 1 types such a state loosely, any here; version 2 infers it exactly. Trying
// definePlugin's version 2 overload first once turned it into `| undefined` and broke this.)
export const inferredV1 = definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol({
      name: 'v1-inferred',
      options,
      callbacks: {
        init(_vhost, opts) {
          return { greeting: opts.greeting };
        },
        destroy(vhost) {
          vhost.log.info(vhost.state.greeting);
        },
      },
    }),
  ],
});

// Explicit generics, as the shipped v1 plugins spelled them; one session for websockets and HTTP.
interface V1State {
  readonly greeting: string;
}
interface V1Session {
  readonly outbox: string[];
}
export const explicitV1 = definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol<V1State, V1Session, typeof options>({
      name: 'v1-explicit',
      options,
      session: () => ({ outbox: [] }),
      callbacks: {
        init: (_vhost, opts) => ({ greeting: opts.greeting }),
        http(txn) {
          expectTypeOf(txn.session).toEqualTypeOf<V1Session>();
          expectTypeOf(txn.vhost.state).toEqualTypeOf<V1State>();
        },
        receive(conn) {
          expectTypeOf(conn.session).toEqualTypeOf<V1Session>();
        },
      },
    }),
  ],
});
