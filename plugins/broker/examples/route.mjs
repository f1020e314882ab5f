#!/usr/bin/env node
// An example broker handler in Node (no dependencies). It speaks the handler framing of
// plugins/broker/README.md: one JSON request per line in, one JSON reply per line out,
// on stdin/stdout (the broker runs it: "exec:node route.mjs") or, with --listen <path>, on
// every connection to a UNIX socket (the broker connects: "unix:<path>").
//
// Types it answers:
//   echo   the payload back to the sender                        (command "reply")
//   whoami {user, server, hops} back to the sender                (command "reply")
//   route  payload {"to": "bob" | "bob@server", ...}: to that user, on this server
//          (sendClients) or on the named one (sendServers); the payload goes as it is
//   upper  payload {"text", "next"?}: the text in capitals, then on to the handler of type
//          "next" if given (sendHandler: a chain), else back to the sender
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';

/** One request → one reply object (without the id). */
function handle(req) {
  const p = req.payload;
  switch (req.type) {
    case 'echo':
      return { command: 'reply', payload: p };
    case 'whoami':
      return { command: 'reply', payload: { user: req.user, server: req.server, hops: req.hops } };
    case 'route': {
      const to = typeof p?.to === 'string' ? p.to : '';
      const [user, server] = to.split('@');
      if (!user) return { command: 'error', message: 'route wants a payload {"to": "user" or "user@server", ...}' };
      if (!server || server === req.server) return { command: 'sendClients', clients: [user], payload: p };
      return { command: 'sendServers', servers: [server], clients: [user], payload: p };
    }
    case 'upper': {
      if (typeof p?.text !== 'string') return { command: 'error', message: 'upper wants a payload {"text": "...", "next"?: "type"}' };
      const out = { ...p, text: p.text.toUpperCase() };
      if (typeof p.next === 'string' && p.next !== '') {
        delete out.next;
        return { command: 'sendHandler', type: p.next, payload: out };
      }
      return { command: 'reply', payload: out };
    }
    default:
      return { command: 'error', message: `route.mjs does not handle type "${req.type}"` };
  }
}

/** Serves one stream of lines: each request answered as soon as it is handled. */
function serve(input, output) {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      process.stderr.write(`route.mjs: not JSON, ignored: ${line.slice(0, 80)}\n`);
      return;
    }
    output.write(`${JSON.stringify({ id: req.id, ...handle(req) })}\n`);
  });
  return lines;
}

const at = process.argv.indexOf('--listen');
if (at >= 0) {
  const socketPath = process.argv[at + 1];
  if (!socketPath) throw new Error('--listen needs a socket path');
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((conn) => {
    conn.on('error', () => conn.destroy());
    serve(conn, conn);
  });
  server.listen(socketPath, () => process.stderr.write(`route.mjs: listening on ${socketPath}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  // The broker closes stdin when it stops (or dies): that is the signal to exit.
  serve(process.stdin, process.stdout).on('close', () => process.exit(0));
}
