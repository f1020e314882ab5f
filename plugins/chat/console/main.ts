/** @module tsws-chat: the command line (arguments, terminal, exit codes) around a ChatSession. */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { standaloneClients } from '../../../server/session/client/standalone.ts';
import { DEFAULT_ROOM } from '../protocol.ts';
import { ChatSession, type ConsoleIo } from './chat-session.ts';
import { socketsOver } from './client-socket.ts';

const USAGE = `usage: tsws-chat <ws://host:port> --name NAME [--room ROOM]

Talks in a room of a tsws server offering the "chat" protocol, with people
on the web page (/chat/) and in other terminals.

  -n, --name NAME   your name: 1-32 letters, digits, spaces, "_", "-", "."
  -r, --room ROOM   the room to join (default "${DEFAULT_ROOM}")
  -h, --help        this text

Exit status: 0 after /quit, 1 when the server cannot be reached or refuses
the join, 2 for a bad command line.`;

/** ws:// and wss:// as given; http(s):// mapped to ws(s)://; "host:port" taken as ws://host:port. */
function chatUrl(arg: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? arg : `ws://${arg}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.protocol === 'ws:' || u.protocol === 'wss:' ? u.href : undefined;
}

function usageError(message: string): never {
  process.stderr.write(`tsws-chat: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function main(argv: readonly string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { name: { type: 'string', short: 'n' }, room: { type: 'string', short: 'r' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (parsed.positionals.length !== 1) usageError('give exactly one server address, e.g. ws://127.0.0.1:7681');
  const url = chatUrl(parsed.positionals[0] ?? '');
  if (!url) usageError(`not a websocket address: ${parsed.positionals[0] ?? ''}`);
  const name = parsed.values.name;
  if (name === undefined || name.trim() === '') usageError('--name is required');

  // Line editing and a prompt only on a terminal; piped input and output stay plain lines.
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  const io: ConsoleIo = {
    print(line) {
      if (!tty) {
        process.stdout.write(`${line}\n`);
        return;
      }
      // Print above what is being typed, then redraw the prompt and the typing.
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      process.stdout.write(`${line}\n`);
      rl.prompt(true);
    },
    setRoom(room) {
      rl.setPrompt(`[${room}] `);
      if (tty) rl.prompt(true);
    },
    exit(code, message) {
      if (message) process.stderr.write(`${message}\n`);
      // Closing readline restores the terminal; its 'close' must not be taken for the user's Ctrl-D.
      rl.removeAllListeners('close');
      rl.close();
      // stdout and stderr are synchronous on Linux terminals and pipes: nothing is lost.
      process.exit(code);
    },
  };
  // Standard output is the conversation: the client machinery's log (a callback that threw: a bug) goes to stderr.
  const clients = standaloneClients(pino({ level: 'warn' }, pino.destination(2)), 'tsws-chat');
  const session = new ChatSession({ url, name, room: parsed.values.room ?? DEFAULT_ROOM, WebSocket: socketsOver(clients.connect) }, io);
  rl.on('line', (l) => {
    // The terminal echoed what was typed; the room's copy (with time and name) comes back from the
    // server, so the echo of a message goes, or every line you say would show twice.
    if (tty && !l.startsWith('/') && l.trim() !== '') {
      readline.moveCursor(process.stdout, 0, -1);
      readline.clearLine(process.stdout, 0);
    }
    session.line(l);
  });
  rl.on('close', () => session.quit());
  rl.on('SIGINT', () => session.quit());
  if (tty) io.print(`tsws-chat: connecting to ${url} as ${name}; /help lists the commands`);
  session.start();
}

main(process.argv.slice(2));
