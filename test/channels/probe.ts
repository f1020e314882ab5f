/** @module A client of the probe plugin (probe-plugin.ts): commands with replies, and the channel messages and presence events it is sent. */
import { TestClient } from '../helpers/ws-client.ts';

export interface Msg {
  readonly ch: string;
  readonly topic: string;
  readonly epoch: string;
  readonly offset: number;
  readonly time: number;
  readonly data: string;
}

export interface PresenceEv {
  readonly ch: string;
  readonly type: 'join' | 'leave';
  readonly member: { id: string; info: unknown; holder: string };
}

interface Reply {
  readonly id?: number;
  readonly ev?: string;
  readonly value?: unknown;
  readonly error?: string;
}

export class Probe {
  readonly client: TestClient;
  readonly msgs: Msg[] = [];
  readonly events: PresenceEv[] = [];
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #seq = 0;
  #wakers: (() => void)[] = [];

  private constructor(client: TestClient) {
    this.client = client;
  }

  static async open(port: number): Promise<Probe> {
    const client = await TestClient.open(`ws://127.0.0.1:${port}/`, 'chprobe');
    const p = new Probe(client);
    void p.#pump();
    return p;
  }

  async #pump(): Promise<void> {
    for (;;) {
      let text: string;
      try {
        text = await this.client.nextText(3_600_000);
      } catch {
        return;
      }
      const r = JSON.parse(text) as Reply & Msg & PresenceEv;
      if (r.ev === 'msg') this.msgs.push(r);
      else if (r.ev === 'presence') this.events.push(r);
      else if (r.id !== undefined) {
        this.#waiting.get(r.id)?.(r);
        this.#waiting.delete(r.id);
      }
      for (const w of this.#wakers.splice(0)) w();
    }
  }

  /** Resolves with the command's value; rejects with the error code it got. */
  cmd<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, (r) => (r.error !== undefined ? reject(Object.assign(new Error(r.error), { code: r.error })) : resolve(r.value as T)));
      this.client.send(JSON.stringify({ id, op, ...args }));
    });
  }

  /** Waits (no time bound but the test's) until `cond` holds over what arrived. */
  async until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.#wakers.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  offsets(ch: string): number[] {
    return this.msgs.filter((m) => m.ch === ch).map((m) => m.offset);
  }

  close(): Promise<unknown> {
    return this.client.close();
  }
}

/** Polls `fn` until it returns true (state that settles asynchronously: presence after a death). */
export async function pollUntil(fn: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
