/** @module No file under plugins/ (tests and examples/ aside) imports ws: shipped websocket clients are client connections. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/process.ts';

/*
 * Shipped plugins and their programs (the tunnel agent, the chat console)
 * open websockets as client connections (vhost.connect, standaloneClients):
 * one write per clientWritable, coded errors, the framework's reconnect
 * policy and flow control. A plugin importing `ws` for a client of its own
 * would bring back everything those give, hand-rolled. Tests and examples/
 * (code for users to copy, which has no tsws around it) may use it.
 */
const PLUGINS = path.join(REPO, 'plugins');
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
/** import ... from 'ws', import 'ws', import('ws'), require('ws'), export ... from 'ws'; also 'ws/...'. */
const IMPORTS_WS = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]ws(?:\/[^'"]*)?['"]/;

function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'examples' && entry.name !== 'node_modules') found.push(...sources(full));
    } else if (SOURCE.test(entry.name) && !/\.test\.[^.]+$/.test(entry.name)) found.push(full);
  }
  return found;
}

describe('shipped plugins open websockets as client connections', () => {
  it('no file under plugins/ (tests and examples/ aside) imports ws', () => {
    const files = sources(PLUGINS).map((f) => path.relative(REPO, f));
    // The walk reaches the programs that used to import it.
    expect(files).toEqual(expect.arrayContaining(['plugins/tunnel/agent/tunnel-agent.ts', 'plugins/tunnel/agent/target-ws.ts', 'plugins/chat/console/chat-session.ts']));
    expect(files.filter((f) => f.includes('/examples/') || f.endsWith('.test.ts'))).toEqual([]);
    const offenders = files.filter((f) => IMPORTS_WS.test(fs.readFileSync(path.join(REPO, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the check sees every way of importing ws, and nothing else', () => {
    for (const line of [`import WebSocket from 'ws';`, `import { WebSocketServer } from "ws";`, `import type { RawData } from 'ws';`, `const { WebSocket } = require('ws');`, `await import('ws')`, `import 'ws';`, `export { WebSocket } from 'ws';`, `import x from 'ws/lib/sender.js';`]) {
      expect(IMPORTS_WS.test(line), line).toBe(true);
    }
    for (const line of [`import { PieceQueue } from '../ws-flow.ts';`, `import { x } from './ws';`, `const protocol = 'ws';`, `url.protocol = 'ws:';`]) {
      expect(IMPORTS_WS.test(line), line).toBe(false);
    }
  });
});
