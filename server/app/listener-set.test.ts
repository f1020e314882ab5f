import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { loadConfig } from '../config/loader.ts';
import type { Routes } from './listener-slot.ts';
import { ListenerSet } from './listener-set.ts';
import { ALONE, planListeners, type ListenerPlan } from '../ingress/listeners.ts';
import type { ListenerHandle } from '../transport/types.ts';
import { Vhost } from '../vhost/vhost.ts';
import { VhostRouter } from '../ingress/vhost-router.ts';

afterAll(removeConfigDirs);

/** A transport listener that binds nothing: it records what the set asks of it; ports in `busy` refuse to bind. */
class FakeHandle implements ListenerHandle {
  state: 'new' | 'listening' | 'stopped' | 'closed' = 'new';
  port = 0;
  constructor(private readonly busy: ReadonlySet<number>) {}
  async listen(_host: string, port: number): Promise<number> {
    if (this.busy.has(port)) throw new Error('EADDRINUSE');
    this.state = 'listening';
    this.port = port;
    return port;
  }
  async listenUnix(): Promise<void> {
    this.state = 'listening';
  }
  stopListening(): void {
    if (this.state === 'listening') this.state = 'stopped';
  }
  closeAll(): void {
    this.state = 'closed';
  }
}

function setup() {
  const busy = new Set<number>();
  const handles: FakeHandle[] = [];
  const set = new ListenerSet(() => {
    const h = new FakeHandle(busy);
    handles.push(h);
    return h;
  }, pino({ level: 'silent' }));
  // Routes are what handlers read; nothing calls a handler here.
  const route = (plan: ListenerPlan): Routes => ({ router: new VhostRouter(plan.vhosts), http: {} as Routes['http'], ws: {} as Routes['ws'] });
  return { busy, handles, set, route };
}

function plans(ports: readonly number[]): ListenerPlan[] {
  const dir = makeConfigDir({ vhosts: { x: ports.map((p) => ({ name: `v${p}`, port: String(p) })) } });
  const config = loadConfig({ configDir: dir, dataDir: '/data', shippedPluginDir: '/shipped' }).config;
  return planListeners((config?.vhosts ?? []).map((vc) => new Vhost(vc, new Map(), undefined)));
}

describe('ListenerSet: a reload binds what changed before it swaps anything', () => {
  it('keeps a socket whose transport is unchanged, re-binds a changed one, drains a removed one', async () => {
    const { handles, set, route } = setup();
    await set.commit(await set.stage(plans([7001, 7002]), 0, route, ALONE), route);
    expect(handles.map((h) => h.state)).toEqual(['listening', 'listening']);

    const same = await set.stage(plans([7001, 7003]), 0, route, ALONE);
    expect(set.commit(same, route)).toEqual({ added: ['*:7003'], removed: ['*:7002'], rebound: [] });
    expect(handles.map((h) => h.state)).toEqual(['listening', 'stopped', 'listening']);

    // Another websocket idle timeout is another transport: each running socket hands its port to a fresh one.
    const changed = await set.stage(plans([7001, 7003]), 8, route, ALONE);
    expect(set.commit(changed, route)).toEqual({ added: [], removed: [], rebound: ['*:7001', '*:7003'] });
    expect(handles.map((h) => h.state)).toEqual(['stopped', 'stopped', 'stopped', 'listening', 'listening']);
    expect(set.infos.map((i) => i.port)).toEqual([7001, 7003]);
  });

  it('undoes a reload whose bind fails: fresh sockets closed, handed-over ports listened on again, nothing swapped', async () => {
    const { busy, handles, set, route } = setup();
    await set.commit(await set.stage(plans([7001]), 0, route, ALONE), route);
    busy.add(7009);
    await expect(set.stage(plans([7001, 7009]), 8, route, ALONE)).rejects.toMatchObject({ code: 'TSWS_ERR_LISTEN' });
    // 7001 was handed over to a fresh socket and given back when 7009 could not bind; both fresh sockets are closed.
    expect(handles.map((h) => h.state)).toEqual(['listening', 'closed', 'closed']);
    expect(handles[0]?.port).toBe(7001);
    expect(set.infos.map((i) => i.key)).toEqual(['*:7001']);
  });

  it('gives back what was staged when a later step of the reload fails', async () => {
    const { handles, set, route } = setup();
    await set.commit(await set.stage(plans([7001]), 0, route, ALONE), route);
    const staged = await set.stage(plans([7001, 7002]), 8, route, ALONE);
    await set.unstage(staged);
    expect(handles.map((h) => h.state)).toEqual(['listening', 'closed', 'closed']);
    expect(set.infos.map((i) => i.key)).toEqual(['*:7001']);
  });
});
