/** @module Broker test helpers: a client speaking its JSON protocol, and the fixture handler run on a UNIX socket. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerMessage } from '../../plugins/broker/wire.ts';
import { REPO } from './process.ts';
import { TestClient } from './ws-client.ts';

export const FIXTURE_HANDLER = path.join(REPO, 'test/fixtures/broker/handler.mjs');

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
type Answer = Of<'reply'> | Of<'sent'> | Of<'error'>;

export class BrokerClient {
  readonly raw: TestClient;

  private constructor(raw: TestClient) {
    this.raw = raw;
  }

  /** `host` sets the Host header, to reach a vhost sharing its listener with others. */
  static async open(url: string, host?: string): Promise<BrokerClient> {
    return new BrokerClient(await TestClient.open(url, 'broker', host === undefined ? undefined : { headers: { host } }));
  }

  /** Opens and logs in; the welcome is taken. */
  static async login(url: string, username: string, password = `${username}-pw`): Promise<BrokerClient> {
    const c = await BrokerClient.open(url);
    c.json({ type: 'login', username, password });
    await c.expect('welcome');
    return c;
  }

  json(msg: Record<string, unknown>): void {
    this.raw.send(JSON.stringify(msg));
  }

  send(type: string, id: string | number, payload?: unknown): void {
    this.json({ type, id, payload });
  }

  async next(): Promise<ServerMessage> {
    return JSON.parse(await this.raw.nextText()) as ServerMessage;
  }

  async expect<T extends ServerMessage['type']>(type: T): Promise<Of<T>> {
    const m = await this.next();
    if (m.type !== type) throw new Error(`expected a "${type}" message, got ${JSON.stringify(m)}`);
    return m as Of<T>;
  }

  /** The answer (reply, sent or error) to request `id`, skipping anything else. */
  async answer(id: string | number): Promise<Answer> {
    for (;;) {
      const m = await this.next();
      if ((m.type === 'reply' || m.type === 'sent' || m.type === 'error') && m.id === id) return m;
    }
  }

  /** Sends and waits for the answer. */
  async ask(type: string, id: string | number, payload?: unknown): Promise<Answer> {
    this.send(type, id, payload);
    return this.answer(id);
  }

  close(): Promise<{ code: number; reason: string }> {
    return this.raw.close();
  }
}

/** Runs the fixture handler listening on `socketPath`; resolves once it listens. */
export function startUnixHandler(socketPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FIXTURE_HANDLER, '--listen', socketPath], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fixture handler exited (${code}) before listening`)));
    child.stdout?.once('data', () => resolve(child));
  });
}
