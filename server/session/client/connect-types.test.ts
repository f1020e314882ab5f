import { describe, expectTypeOf, it } from 'vitest';
import { definePlugin, type ClientConn, type ProtocolVhost, type TswsError } from '../../plugin/api.ts';

/*
 * Type tests (checked by tsc; vitest only runs the outer functions): a
 * plugin opening a client connection writes no generics and no casts, and
 * still gets its own types in every callback.
 */
function connectFrom(vhost: ProtocolVhost<{ readonly room: string }, { nick: string }>) {
  const conn = vhost.connect({
    url: 'ws://127.0.0.1:1/',
    session: { received: 0, pending: [] as string[] },
    callbacks: {
      clientEstablished(c) {
        expectTypeOf(c.session).toEqualTypeOf<{ received: number; pending: string[] }>();
        expectTypeOf(c.vhost.state).toEqualTypeOf<{ readonly room: string }>();
      },
      clientReceive(c, data, isBinary) {
        expectTypeOf(data).toEqualTypeOf<Buffer>();
        expectTypeOf(isBinary).toEqualTypeOf<boolean>();
        c.session.received++;
      },
      clientWritable(c) {
        expectTypeOf(c.write('x')).toEqualTypeOf<'sent' | 'backpressure' | 'dropped'>();
      },
      clientConnectionError(_c, err) {
        expectTypeOf(err).toEqualTypeOf<TswsError>();
      },
      clientClosed(_c, code, reason) {
        expectTypeOf(code).toEqualTypeOf<number>();
        expectTypeOf(reason).toEqualTypeOf<string>();
      },
      clientReconnecting(_c, next) {
        expectTypeOf(next).toEqualTypeOf<{ readonly attempt: number; readonly delayMs: number }>();
      },
    },
  });
  expectTypeOf(conn).toEqualTypeOf<ClientConn<{ received: number; pending: string[] }, { readonly room: string }, { nick: string }>>();
  // No session given: undefined.
  expectTypeOf(vhost.connect({ url: 'ws://127.0.0.1:1/', callbacks: {} }).session).toEqualTypeOf<undefined>();
}

/**
 * From a protocol's init, as shipped plugins do (apiVersion 2): the client's
 * session is inferred there too, and the link kept in the protocol's state
 * is typed in every callback that reads it.
 */
const inInit = definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    protocol({
      name: 'types-only',
      init(vhost) {
        const link = vhost.connect({
          url: 'ws://127.0.0.1:1/',
          session: { hello: 'hi' },
          callbacks: {
            clientEstablished(c) {
              expectTypeOf(c.session.hello).toEqualTypeOf<string>();
            },
          },
        });
        expectTypeOf(link.session).toEqualTypeOf<{ hello: string }>();
        return { link };
      },
      websocket: {
        established(conn) {
          expectTypeOf(conn.vhost.state.link.session.hello).toEqualTypeOf<string>();
        },
      },
    }),
  ],
});

describe('vhost.connect types', () => {
  it('infers the client session and the vhost state without generics or casts', () => {
    expectTypeOf(connectFrom).toBeFunction();
    expectTypeOf(inInit.apiVersion).toEqualTypeOf<2>();
  });
});
