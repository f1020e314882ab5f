/** @module tsws-tunnel: the command line (flags, logger, signals, stdin messages) around a TunnelAgent. */
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { createLogger, parseLogLevel } from '../../../server/base/log.ts';
import { standaloneClients } from '../../../server/session/client/standalone.ts';
import { NODE_ID } from '../wire.ts';
import { TunnelAgent } from './tunnel-agent.ts';

const USAGE = `usage: tsws-tunnel --server URL --id NAME --token TOKEN [--target URL] [--send-to NODE]

Keeps a websocket tunnel from this machine to a public tsws node, so that a
service here, with no public address, is reachable at
http://<public node>/nodes/NAME/ and this node can exchange messages with
other nodes. Reconnects by itself (backoff with jitter).

  -s, --server URL      the public node: ws://host:port or wss://host:port
                        (http(s):// and host:port are accepted too)
  -i, --id NAME         this node's id, as listed in the public node's tunnel tokens
  -t, --token TOKEN     the token for that id; or set TSWS_TUNNEL_TOKEN, or use
      --token-file F    a file whose first line is the token
  -T, --target URL      the local HTTP service to expose, e.g. http://127.0.0.1:3000
                        (without it the node takes messages only)
      --send-to NODE    send each line of standard input to node NODE as a message
  -d, --debug LEVEL     log level: info (default), debug, warn, ...
  -h, --help            this text

Messages other nodes send here are logged ("message" lines). Logs are JSON lines
on stdout, readable text on a terminal. Exit status: 0 after SIGINT/SIGTERM,
1 when the public node refuses the id or token (or another agent took the id),
2 for a bad command line.`;

function usageError(message: string): never {
  process.stderr.write(`tsws-tunnel: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** ws:// and wss:// as given; http(s):// mapped to ws(s)://; "host:port" taken as ws://host:port. */
function serverUrl(arg: string): string | undefined {
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

function main(argv: readonly string[]): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        server: { type: 'string', short: 's' },
        id: { type: 'string', short: 'i' },
        token: { type: 'string', short: 't' },
        'token-file': { type: 'string' },
        target: { type: 'string', short: 'T' },
        'send-to': { type: 'string' },
        debug: { type: 'string', short: 'd' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (v.server === undefined) usageError('--server is required');
  const server = serverUrl(v.server);
  if (!server) usageError(`not a websocket address: ${v.server}`);
  if (v.id === undefined || !NODE_ID.test(v.id)) usageError('--id must be 1-63 lower-case letters, digits or "-" (not at either end)');
  let token = v.token ?? process.env.TSWS_TUNNEL_TOKEN;
  if (v['token-file'] !== undefined) {
    try {
      token = fs.readFileSync(v['token-file'], 'utf8').split('\n')[0]?.trim();
    } catch (err) {
      usageError(`cannot read --token-file: ${(err as Error).message}`);
    }
  }
  if (!token) usageError('a token is required: --token, --token-file or TSWS_TUNNEL_TOKEN');
  let target: URL | undefined;
  if (v.target !== undefined) {
    try {
      target = new URL(v.target);
    } catch {
      usageError(`--target is not a URL: ${v.target}`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') usageError('--target must be an http:// or https:// URL');
  }
  const sendTo = v['send-to'];
  if (sendTo !== undefined && !NODE_ID.test(sendTo)) usageError(`--send-to: "${sendTo}" is not a node id`);
  const level = parseLogLevel(v.debug ?? 'info');
  if (!level) usageError(`unknown log level ${v.debug ?? ''}`);

  const log = createLogger(level).child({ node: v.id });
  const clients = standaloneClients(log, 'tsws-tunnel');
  const agent = new TunnelAgent({
    server,
    id: v.id,
    token,
    ...(target ? { target } : {}),
    log,
    connect: clients.connect,
    onMessage: (from, body) => log.info({ event: 'message', from, body }, `message from ${from}`),
    onFatal: () => process.exit(1),
  });
  const stop = () => {
    agent.stop();
    // Let the close frame go out.
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  if (sendTo !== undefined) {
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      void agent.send(sendTo, line).then((d) => {
        if (d.ok) log.info({ event: 'sent', to: sendTo }, `message to ${sendTo} delivered`);
        else log.warn({ event: 'not-sent', to: sendTo, code: d.code }, `message to ${sendTo} not delivered: ${d.message}`);
      });
    });
  }
  agent.start();
}

main(process.argv.slice(2));
