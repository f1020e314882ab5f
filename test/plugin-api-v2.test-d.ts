/**
 * @module Type tests of the apiVersion 2 test plugin (test/plugins-v2/board.ts), checked by tsc: it
 * names no type argument and casts nothing, and every state it keeps is still inferred exactly.
 */
import { expectTypeOf } from 'vitest';
import type { ClientConn, OptionSpec, Plugin, Protocol } from '../server/plugin/api.ts';
import board, { Board, boardHttpProtocol, boardProtocol } from './plugins-v2/board.ts';

expectTypeOf(board).toEqualTypeOf<Plugin<Board>>();

// The websocket protocol: its state is the link it keeps upstream (a client connection whose session is the board),
// each connection's the name it gave and what it posted; it has no HTTP part, and one option.
type BoardProtocol = ReturnType<typeof boardProtocol>;
expectTypeOf<BoardProtocol>().toEqualTypeOf<
  Protocol<
    { upstream: ClientConn<Board, unknown, unknown, Board> },
    { name: string; posted: number },
    undefined,
    { readonly upstream: { readonly type: 'string'; readonly doc: 'A websocket URL serving the "echo" protocol: every post goes there.' } },
    Board
  >
>();
expectTypeOf<BoardProtocol['options']>().toMatchTypeOf<Readonly<Record<string, OptionSpec>> | undefined>();

// The HTTP protocol: no state of its own, no websocket connections, each transaction one BoardRequest object.
type BoardHttp = ReturnType<typeof boardHttpProtocol>;
expectTypeOf<BoardHttp extends Protocol<undefined, undefined, infer H, infer _O, Board> ? H : never>().toHaveProperty('httpBodyCompletion');
expectTypeOf<BoardHttp extends Protocol<infer V, infer S, infer _H, infer _O, infer P> ? [V, S, P] : never>().toEqualTypeOf<[undefined, undefined, Board]>();
