/** @module Chat test helpers: a server offering the chat protocol with given options, and a client speaking its JSON and the room channel's frames. */
import { makeConfigDir } from './config-dir.ts';
import { startInProcess, type Running } from './in-process.ts';
import { TestClient } from './ws-client.ts';
import type { ChatMessage, ServerMessage } from '../../plugins/chat/protocol.ts';
import type { ChannelPosition, ServerFrame } from '../../server/plugin/api.ts';

/** An in-process server on an ephemeral port whose one vhost offers `chat` with `options`. */
export function startChat(options: Record<string, string> = {}): Promise<Running> {
  const dir = makeConfigDir({
    vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ chat: { status: 'ok', ...options } }] }] },
  });
  return startInProcess(dir);
}

/** A channel frame as the chat tests read it, next to chat's own replies. */
export type ChatEvent =
  | ServerMessage
  | ({ readonly type: 'message'; readonly room: string } & ChatMessage)
  | { readonly type: 'joined'; readonly room: string; readonly name: string }
  | { readonly type: 'gone'; readonly room: string; readonly name: string }
  | {
      readonly type: 'subscribed'; readonly room: string; readonly epoch: string; readonly offset: number; readonly recovered?: boolean; readonly reason?: string;
      /** The presence members (names, and the thread or instance holding each). */
      readonly members: readonly { readonly name: string; readonly holder: string }[];
    }
  | { readonly type: 'gap'; readonly room: string; readonly from: ChannelPosition; readonly to: ChannelPosition; readonly reason: string }
  | { readonly type: 'unsubscribed'; readonly room: string }
  | { readonly type: 'channel-error'; readonly code: string; readonly message: string };

type Of<T extends ChatEvent['type']> = Extract<ChatEvent, { type: T }>;

const roomOf = (channel: string): string => channel.replace(/^room:/, '');

/** chat's own replies as they are; channel frames as ChatEvents (a presence join is "joined", a leave "gone"). */
function readEvent(text: string): ChatEvent {
  const f = JSON.parse(text) as (ServerFrame & { type?: undefined }) | (ServerMessage & { ch?: undefined });
  if (f.ch === undefined) return f as ServerMessage;
  switch (f.ch) {
    case 'message': {
      const d = f.data as { name: string; text: string };
      return { type: 'message', room: roomOf(f.channel), epoch: f.epoch, offset: f.offset, time: f.time, name: d.name, text: d.text };
    }
    case 'presence':
      return { type: f.event === 'join' ? 'joined' : 'gone', room: roomOf(f.channel), name: (f.member.info as { name: string }).name };
    case 'subscribed':
      return { type: 'subscribed', room: roomOf(f.channel), epoch: f.epoch, offset: f.offset, members: (f.members ?? []).map((m) => ({ name: (m.info as { name: string }).name, holder: m.holder })), ...(f.recovered !== undefined ? { recovered: f.recovered } : {}), ...(f.reason ? { reason: f.reason } : {}) };
    case 'gap':
      return { type: 'gap', room: roomOf(f.channel), from: f.from, to: f.to, reason: f.reason };
    case 'unsubscribed':
      return { type: 'unsubscribed', room: roomOf(f.channel) };
    case 'error':
      return { type: 'channel-error', code: f.code, message: f.message };
    default:
      throw new Error(`unexpected channel frame ${text}`);
  }
}

export class ChatClient {
  readonly raw: TestClient;

  private constructor(raw: TestClient) {
    this.raw = raw;
  }

  static async open(url: string): Promise<ChatClient> {
    return new ChatClient(await TestClient.open(url, 'chat'));
  }

  /** Opens, joins and subscribes to the room's channel from the welcome's position, with presence; the welcome and the `subscribed` are taken. */
  static async joined(url: string, name: string, room = 'lobby'): Promise<{ client: ChatClient; welcome: Of<'welcome'> }> {
    const client = await ChatClient.open(url);
    const welcome = await client.join(room, name);
    return { client, welcome };
  }

  /** join, then (welcomed) the subscribe a client makes: from the welcome's position, with presence. */
  async join(room: string, name: string, key?: string): Promise<Of<'welcome'>> {
    return (await this.joinSubscribed(room, name, key)).welcome;
  }

  /** join, with the `subscribed` that followed (its members say which thread or instance holds each). */
  async joinSubscribed(room: string, name: string, key?: string): Promise<{ welcome: Of<'welcome'>; subscribed: Of<'subscribed'> }> {
    this.request({ type: 'join', room, name, ...(key ? { key } : {}) });
    const welcome = await this.expect('welcome');
    this.subscribe(welcome.room, { epoch: welcome.epoch, offset: welcome.offset });
    const subscribed = await this.until('subscribed', (s) => s.room === welcome.room);
    return { welcome, subscribed };
  }

  subscribe(room: string, since?: ChannelPosition): void {
    this.raw.send(JSON.stringify({ ch: 'subscribe', channel: `room:${room}`, ...(since ? { since } : {}), presence: true }));
  }

  request(req: Record<string, unknown>): void {
    this.raw.send(JSON.stringify(req));
  }

  send(text: string): void {
    this.request({ type: 'send', text });
  }

  async next(): Promise<ChatEvent> {
    return readEvent(await this.raw.nextText());
  }

  /** The next message, which must be of `type`. */
  async expect<T extends ChatEvent['type']>(type: T): Promise<Of<T>> {
    const m = await this.next();
    if (m.type !== type) throw new Error(`expected a "${type}" message, got ${JSON.stringify(m)}`);
    return m as Of<T>;
  }

  /** Skips messages until one of `type` satisfying `pred` arrives. */
  async until<T extends ChatEvent['type']>(type: T, pred: (m: Of<T>) => boolean = () => true): Promise<Of<T>> {
    for (;;) {
      const m = await this.next();
      if (m.type === type && pred(m as Of<T>)) return m as Of<T>;
    }
  }

  close(code?: number): Promise<{ code: number; reason: string }> {
    return this.raw.close(code);
  }
}
