import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from '../../test/helpers/process.ts';
import { hello, rawTunnel, tunnelConfigDir } from '../../test/helpers/tunnel.ts';
import { upgradeStatus, type TestClient } from '../../test/helpers/ws-client.ts';

/*
 * The /nodes mount behind basic-auth, as an operator protects the private
 * sites: real tsws on a random port, a node spoken by hand that refuses every
 * websocket it is asked to open with 451 (so a relayed upgrade is told apart
 * from one the public node refused itself).
 */
let server: TswsProcess;
let port: number;
let node: TestClient;

beforeAll(async () => {
  port = await freePort();
  const dir = tunnelConfigDir('walled:walled-secret-token', 30, port);
  const users = path.join(dir, 'users');
  fs.writeFileSync(users, 'ann:ann-password\n');
  const file = path.join(dir, 'conf.d/localhost');
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes('"origin": "callback://tunnel"')) throw new Error('conf.d/localhost no longer mounts callback://tunnel');
  fs.writeFileSync(file, text.replace('"origin": "callback://tunnel"', `"origin": "callback://tunnel", "basic-auth": ${JSON.stringify(users)}`));
  server = runTsws(['-c', dir]);
  await server.ready;
  const t = await rawTunnel(`ws://127.0.0.1:${port}`, hello('walled', 'walled-secret-token', { v: 2, offers: ['http', 'websocket'] }));
  expect(t.answer.type).toBe('welcome');
  node = t.client;
});

afterAll(async () => {
  await node?.close().catch(() => undefined);
  killAll();
  removeConfigDirs();
});

/** Answers every wsopen the node gets with a 451 refusal; counts them. */
function refuseOpens(): { opened: number } {
  const seen = { opened: 0 };
  const loop = async () => {
    for (;;) {
      const m = await node.until((x) => !x.isBinary && x.text.includes('"wsopen"'), 60_000).catch(() => undefined);
      if (!m) return;
      seen.opened++;
      const { id } = JSON.parse(m.text) as { id: number };
      node.send(JSON.stringify({ type: 'wsrefuse', id, status: 451, message: 'the node refuses' }));
    }
  };
  void loop();
  return seen;
}

describe("a mount's basic-auth covers the websockets its protocol relays", () => {
  it('an upgrade under /nodes/<id>/ without credentials gets 401 and never reaches the node; with them it does', async () => {
    const seen = refuseOpens();
    const url = `ws://127.0.0.1:${port}/nodes/walled/socket`;
    expect((await fetch(`http://127.0.0.1:${port}/nodes/walled/page`)).status).toBe(401);
    expect(await upgradeStatus(url)).toBe(401);
    expect(await upgradeStatus(url, undefined, { authorization: `Basic ${Buffer.from('ann:wrong').toString('base64')}` })).toBe(401);
    expect(seen.opened).toBe(0);
    // The right credentials: relayed to the node, whose refusal comes back.
    expect(await upgradeStatus(url, undefined, { authorization: `Basic ${Buffer.from('ann:ann-password').toString('base64')}` })).toBe(451);
    expect(seen.opened).toBe(1);
  });
});
