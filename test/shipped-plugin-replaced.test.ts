import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_PLUGIN_DIR } from '../server/base/paths.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

const MINE = `export default { apiVersion: 1, protocols: [{ name: 'echo', callbacks: {
  receive(conn, data) { conn.session = 'mine: ' + data.toString(); conn.requestWritable(); },
  writable(conn) { conn.write(conn.session); },
} }] };
`;

describe('a plugin of yours named like a shipped one', () => {
  it('serves in its place, and the server logs a warning naming both files, at start and again at reload', async () => {
    const dir = makeConfigDir({
      plugins: { 'echo.js': MINE },
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] }] },
    });
    const server = runTsws(['-c', dir]);
    const listeners = await server.ready;
    const warning = await server.waitFor((l) => l.event === 'plugin-replaces-shipped');
    expect(warning).toMatchObject({ level: 40, protocol: 'echo', yours: path.join(dir, 'plugins/echo.js'), shipped: path.join(SHIPPED_PLUGIN_DIR, 'echo/echo.ts') });
    expect(warning.msg).toContain(path.join(dir, 'plugins/echo.js'));
    const c = await TestClient.open(`ws://127.0.0.1:${listeners[0]?.port}/`, 'echo');
    c.send('hi');
    expect(await c.nextText()).toBe('mine: hi');
    await c.close();
    server.kill('SIGHUP');
    await server.waitFor((l) => l.event === 'reloaded');
    expect(server.lines.filter((l) => l.event === 'plugin-replaces-shipped')).toHaveLength(2);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
