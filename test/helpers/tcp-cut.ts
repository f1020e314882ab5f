/** @module A TCP relay on 127.0.0.1 that a test can cut (every connection through it dropped, new ones refused) and restore: a network outage on real sockets. */
import net from 'node:net';

export interface CuttableRelay {
  readonly port: number;
  /** Drops every relayed connection and closes each new one at once, until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function cuttableRelay(targetPort: number): Promise<CuttableRelay> {
  let down = false;
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    pairs.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
      pairs.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    cut() {
      down = true;
      for (const s of [...pairs]) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => {
      for (const s of [...pairs]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it holds (the test's own timeout bounds the wait: no sleeping for a guessed time). */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}
