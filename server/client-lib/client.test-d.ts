/**
 * @module Type tests of tsws/client (checked by tsc, which `npm test` runs first): a channel map types
 * each channel's data on subscribe and publish, names outside it do not compile, the default takes any
 * name with unknown data, and ws's WebSocket fits where Node 20 needs one passed.
 */
import { expectTypeOf } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { connect, type ChannelPosition, type ClientState, type Gap, type ReceivedMessage, type Subscription, type WebSocketConstructor } from './index.ts';

interface Line {
  readonly from: string;
  readonly text: string;
}
interface Headline {
  readonly title: string;
}
type Chat = { [room: `room:${string}`]: Line; news: Headline };

// ---- a map: each channel's data, by exact name or by pattern ----------------------

const chat = connect<Chat>('ws://127.0.0.1:7681/', { protocol: 'chat' });
const sub = chat.subscribe('room:lobby', {
  onMessage(m) {
    expectTypeOf(m).toEqualTypeOf<ReceivedMessage<Line>>();
    expectTypeOf(m.data.text).toEqualTypeOf<string>();
  },
  onGap(g) {
    expectTypeOf(g).toEqualTypeOf<Gap>();
    expectTypeOf(g.reason).toEqualTypeOf<'epoch-changed' | 'too-old' | 'unavailable' | 'skipped'>();
  },
});
expectTypeOf(sub).toEqualTypeOf<Subscription>();
expectTypeOf(sub.position).toEqualTypeOf<ChannelPosition | undefined>();
chat.subscribe('news', { onMessage: (m) => expectTypeOf(m.data).toEqualTypeOf<Headline>() });
expectTypeOf(chat.publish('room:lobby', { from: 'ann', text: 'hi' })).toEqualTypeOf<Promise<ChannelPosition>>();

// @ts-expect-error: a room's data is a Line
void chat.publish('room:lobby', { title: 'not a line' });
// @ts-expect-error: news carries Headlines
void chat.publish('news', { from: 'ann', text: 'hi' });
// @ts-expect-error: no such channel in the map
chat.subscribe('lobby', { onMessage: () => undefined });
// @ts-expect-error: onMessage is required
chat.subscribe('room:x', {});

// ---- no map: any name, data unknown --------------------------------------------------

const any = connect('ws://127.0.0.1:7681/');
any.subscribe('whatever', { onMessage: (m) => expectTypeOf(m.data).toEqualTypeOf<unknown>() });
void any.publish('whatever', 42);

// ---- states, events, the WebSocket of Node 20 -------------------------------------

any.on('state', (s) => {
  expectTypeOf(s).toEqualTypeOf<ClientState>();
  if (s.state === 'reconnecting') expectTypeOf(s.delayMs).toEqualTypeOf<number>();
});
any.on('message', (m) => expectTypeOf(m).toEqualTypeOf<string | ArrayBuffer>());
// @ts-expect-error: no such event
any.on('opened', () => undefined);

expectTypeOf(WsWebSocket).toExtend<WebSocketConstructor>();
connect('ws://127.0.0.1:7681/', { WebSocket: WsWebSocket, backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.3 } });
