import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../../test/helpers/broker.ts';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess } from '../../test/helpers/in-process.ts';
import { killAll, REPO, runTsws, type ReadyListener, type TswsProcess } from '../../test/helpers/process.ts';
import { eventually } from '../../test/helpers/ws-client.ts';

/*
 * The shipped example as it is (plugins/broker/examples/conf-a and conf-b,
 * their handlers stamp.sh and route.mjs, their users file), run as two real
 * tsws processes. Only what would collide with other runs is changed: the
 * ports become 0 and the UNIX sockets move to a directory of this test.
 */
const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-fed-'));

function exampleConfig(server: 'a' | 'b'): string {
  const dir = path.join(REPO, 'plugins/broker/examples', `conf-${server}`);
  const vhost = fs.readFileSync(path.join(dir, 'conf.d/broker'), 'utf8').replace(/"port": "\d+"/g, '"port": "0"').replaceAll('/tmp/tsws-broker-', `${sockDir}/tsws-broker-`);
  if (!vhost.includes(`${sockDir}/tsws-broker-${server}.sock`)) throw new Error('the example no longer listens on /tmp/tsws-broker-<name>.sock');
  return makeConfigDir({ conf: fs.readFileSync(path.join(dir, 'conf'), 'utf8'), vhosts: { broker: vhost } });
}

interface Server {
  readonly proc: TswsProcess;
  readonly v4: string;
  readonly v6: string;
  readonly unix: string;
}

async function start(configDir: string): Promise<Server> {
  const proc = runTsws(['-c', configDir]);
  const listeners = await proc.ready;
  const find = (pred: (l: ReadyListener) => boolean) => {
    const l = listeners.find(pred);
    if (!l) throw new Error(`missing listener in ${JSON.stringify(listeners)}`);
    return l;
  };
  return {
    proc,
    v4: `ws://127.0.0.1:${find((l) => l.address.startsWith('127.0.0.1:')).port}/`,
    v6: `ws://[::1]:${find((l) => l.address.startsWith('[::1]:')).port}/`,
    unix: `ws+unix://${find((l) => l.address.startsWith('/')).address}:/`,
  };
}

/** The first line from `from` on (an index into proc.lines) with this event. */
const event = (s: Server, name: string, from = 0) => s.proc.waitFor((l) => l.event === name && s.proc.lines.indexOf(l) >= from);

const confA = exampleConfig('a');
const confB = exampleConfig('b');
let a: Server;
let b: Server;

beforeAll(async () => {
  [a, b] = await Promise.all([start(confA), start(confB)]);
  await Promise.all([event(a, 'broker-peer-up'), event(b, 'broker-peer-up')]);
});

afterAll(() => {
  killAll();
  removeConfigDirs();
  fs.rmSync(sockDir, { recursive: true, force: true });
});

describe('two federated servers (the shipped example)', () => {
  it('a message from a client on one reaches a client on the other through a chain of two handlers (sh, then node)', async () => {
    const alice = await BrokerClient.login(a.v4, 'alice');
    const bob = await BrokerClient.login(b.unix, 'bob');
    expect(await alice.ask('post', 1, { to: 'bob@b', text: 'hello from a' })).toEqual({ type: 'sent', id: 1, servers: ['b'], clients: ['bob@b'], unreachable: [] });
    expect(await bob.expect('message')).toMatchObject({ type: 'message', from: 'alice', server: 'a', payload: { to: 'bob@b', text: 'hello from a', by: 'alice@a' } });
    // And back, through server b's handlers.
    expect(await bob.ask('post', 'r', { to: 'alice@a', text: 'hello from b' })).toEqual({ type: 'sent', id: 'r', servers: ['a'], clients: ['alice@a'], unreachable: [] });
    expect(await alice.expect('message')).toMatchObject({ from: 'bob', server: 'b', payload: { text: 'hello from b', by: 'bob@b' } });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('reports a user not connected on the other server as undelivered, as a local miss is', async () => {
    const alice = await BrokerClient.login(a.v4, 'alice');
    expect(await alice.ask('post', 'miss', { to: 'zed@b', text: 'anyone?' })).toEqual({ type: 'sent', id: 'miss', servers: ['b'], clients: [], unreachable: ['zed@b'] });
    expect(await alice.ask('route', 'local-miss', { to: 'zed', text: 'anyone?' })).toEqual({ type: 'sent', id: 'local-miss', clients: [], unreachable: ['zed'] });
    await alice.close();
  });

  it('clients on TCP over IPv4, TCP over IPv6 and the UNIX socket of one vhost talk to each other', async () => {
    const alice = await BrokerClient.login(a.v4, 'alice');
    const carol = await BrokerClient.login(a.v6, 'carol');
    const dave = await BrokerClient.login(a.unix, 'dave');
    const hops: [BrokerClient, string, BrokerClient][] = [[alice, 'carol', carol], [carol, 'dave', dave], [dave, 'alice', alice]];
    for (const [from, to, recipient] of hops) {
      expect(await from.ask('route', to, { to, text: `for ${to}` })).toEqual({ type: 'sent', id: to, clients: [to], unreachable: [] });
      expect(await recipient.expect('message')).toMatchObject({ server: 'a', payload: { text: `for ${to}` } });
    }
    await Promise.all([alice.close(), carol.close(), dave.close()]);
  });

  it('a peer that goes away is unreachable at once, and its link comes back by itself when it returns', async () => {
    const alice = await BrokerClient.login(a.v4, 'alice');
    const mark = a.proc.lines.length;
    b.proc.kill('SIGKILL');
    await b.proc.exited;
    await event(a, 'broker-peer-lost', mark);
    expect(await alice.ask('post', 'down', { to: 'bob@b', text: 'anyone?' })).toEqual({ type: 'sent', id: 'down', servers: [], clients: [], unreachable: ['b'] });

    const back = a.proc.lines.length;
    b = await start(confB);
    await event(a, 'broker-peer-up', back);
    const bob = await BrokerClient.login(b.v6, 'bob');
    expect(await alice.ask('post', 'up', { to: 'bob@b', text: 'welcome back' })).toEqual({ type: 'sent', id: 'up', servers: ['b'], clients: ['bob@b'], unreachable: [] });
    expect(await bob.expect('message')).toMatchObject({ from: 'alice', server: 'a', payload: { text: 'welcome back' } });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('after a reload (SIGHUP), users of the old and the new configuration reach each other and the peer', async () => {
    const alice = await BrokerClient.login(a.v4, 'alice');
    const mark = a.proc.lines.length;
    a.proc.kill('SIGHUP');
    await event(a, 'reloaded', mark);
    // The new configuration opens its own link to b; b's link to a stays on a's old configuration.
    await event(a, 'broker-peer-up', mark);
    const carol = await BrokerClient.login(a.v6, 'carol');
    const bob = await BrokerClient.login(b.unix, 'bob');
    expect(await bob.ask('post', 1, { to: 'carol@a', text: 'over the link opened before the reload' })).toMatchObject({ type: 'sent', servers: ['a'] });
    expect(await carol.expect('message')).toMatchObject({ from: 'bob', server: 'b', payload: { text: 'over the link opened before the reload' } });
    expect(await alice.ask('route', 2, { to: 'carol', text: 'old to new' })).toEqual({ type: 'sent', id: 2, clients: ['carol'], unreachable: [] });
    expect(await carol.expect('message')).toMatchObject({ from: 'alice', payload: { text: 'old to new' } });
    expect(await carol.ask('post', 3, { to: 'bob@b', text: 'new to the peer' })).toMatchObject({ type: 'sent', servers: ['b'] });
    expect(await bob.expect('message')).toMatchObject({ from: 'carol', server: 'a', payload: { text: 'new to the peer' } });
    expect(await carol.ask('route', 4, { to: 'alice', text: 'new to old' })).toMatchObject({ type: 'sent', clients: ['alice'] });
    expect(await alice.expect('message')).toMatchObject({ from: 'carol', payload: { text: 'new to old' } });
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('a peer that refuses the hello is retried with growing delays: the 101 alone does not reset the backoff', async () => {
    // Server c links to b with the wrong secret: b accepts the websocket, then refuses the hello (4003).
    const confC = makeConfigDir({
      vhosts: { c: [{ name: 'c', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ broker: { 'server-name': 'c', peers: `b=${b.v4}`, 'peer-secret': 'not the federation secret' } }] }] },
    });
    const c = await startInProcess(confC);
    try {
      const retries = () => c.logs.filter((l) => l.msg === 'broker: peer still unreachable');
      await eventually(() => retries().length >= 2, 'two more attempts after the first refusal', 20_000);
      const first = c.logs.find((l) => l.event === 'broker-peer-unreachable');
      expect(first?.problem).toMatch(/^refused: bad-secret/);
      // Attempts go on counting (2, 3, ...) and each waits at least half its doubled ceiling (equal jitter).
      const [second, third] = retries();
      expect([second?.attempt, third?.attempt]).toEqual([2, 3]);
      expect(second?.retryInMs).toBeGreaterThanOrEqual(250);
      expect(third?.retryInMs).toBeGreaterThanOrEqual(500);
      expect(c.logs.filter((l) => l.event === 'broker-peer-up')).toEqual([]);
    } finally {
      await c.stop();
    }
  });
});
