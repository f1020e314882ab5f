/** @module Chat test helpers: a server offering the chat protocol with given options, and a client speaking its JSON. */
import { makeConfigDir } from './config-dir.ts';
import { startInProcess, type Running } from './in-process.ts';
import { TestClient } from './ws-client.ts';
import type { ServerMessage } from '../../plugins/chat/protocol.ts';

/** An in-process server on an ephemeral port whose one vhost offers `chat` with `options`. */
export function startChat(options: Record<string, string> = {}): Promise<Running> {
  const dir = makeConfigDir({
    vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ chat: { status: 'ok', ...options } }] }] },
  });
  return startInProcess(dir);
}

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export class ChatClient {
  readonly raw: TestClient;

  private constructor(raw: TestClient) {
    this.raw = raw;
  }

  static async open(url: string): Promise<ChatClient> {
    return new ChatClient(await TestClient.open(url, 'chat'));
  }

  /** Opens and joins; the welcome and the client's own "joined" event are taken. */
  static async joined(url: string, name: string, room = 'lobby'): Promise<{ client: ChatClient; welcome: Of<'welcome'> }> {
    const client = await ChatClient.open(url);
    client.request({ type: 'join', room, name });
    const welcome = await client.expect('welcome');
    await client.until('joined', (j) => j.name === welcome.name);
    return { client, welcome };
  }

  request(req: Record<string, unknown>): void {
    this.raw.send(JSON.stringify(req));
  }

  send(text: string): void {
    this.request({ type: 'send', text });
  }

  async next(): Promise<ServerMessage> {
    return JSON.parse(await this.raw.nextText()) as ServerMessage;
  }

  /** The next message, which must be of `type`. */
  async expect<T extends ServerMessage['type']>(type: T): Promise<Of<T>> {
    const m = await this.next();
    if (m.type !== type) throw new Error(`expected a "${type}" message, got ${JSON.stringify(m)}`);
    return m as Of<T>;
  }

  /** Skips messages until one of `type` satisfying `pred` arrives. */
  async until<T extends ServerMessage['type']>(type: T, pred: (m: Of<T>) => boolean = () => true): Promise<Of<T>> {
    for (;;) {
      const m = await this.next();
      if (m.type === type && pred(m as Of<T>)) return m as Of<T>;
    }
  }

  close(code?: number): Promise<{ code: number; reason: string }> {
    return this.raw.close(code);
  }
}
