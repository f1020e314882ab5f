/** @module A TCP relay on 127.0.0.1 whose target can change (an instance died: its clients reach another) and that a test can cut: real sockets, no mocked network. */
import net from 'node:net';

export interface SwitchRelay {
  readonly port: number;
  /** New connections go to `port` from now on. */
  retarget(port: number): void;
  /** Drops every relayed connection and closes each new one at once, until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function switchRelay(targetPort: number): Promise<SwitchRelay> {
  let target = targetPort;
  let down = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
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
    retarget(port) {
      target = port;
    },
    cut() {
      down = true;
      for (const s of [...sockets]) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => {
      for (const s of [...sockets]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
