/** @module lws-server-status: pushes a JSON picture of the whole server (vhosts, listeners, connections, message rates, memory) every update-ms. */
import { definePlugin, type ProtocolVhostInit, type ServerSnapshot, type TrafficCounts } from '../../server/plugin/api.ts';

const options = {
  'update-ms': { type: 'int', default: 5000, min: 100, max: 3_600_000, doc: 'Milliseconds between two snapshots pushed to every client (lws\'s option of the same name).' },
} as const;

/** Samples of messages per second kept for the page's rolling chart. */
const HISTORY = 60;

interface Rates {
  readonly inPerSec: number;
  readonly outPerSec: number;
}

interface Sample {
  /** When, milliseconds since the epoch. */
  readonly t: number;
  readonly in: number;
  readonly out: number;
}

interface VhostState {
  readonly updateMs: number;
  /** The last tick's snapshot: rates are measured against it. */
  last: ServerSnapshot;
  /** Per "vhost/protocol", and "" for the totals: rates over the last interval. */
  rates: Map<string, Rates>;
  readonly history: Sample[];
  /** The JSON every client is sent at the next writable, and its number. */
  text: string;
  version: number;
}

interface Session {
  /** The version of `text` this client has; a newer one is sent at its next writable. */
  sent: number;
  /** A fresh snapshot for a client that just connected (it should not wait a whole interval). */
  first: string | undefined;
}

const NO_RATE: Rates = { inPerSec: 0, outPerSec: 0 };
const round1 = (n: number) => Math.round(n * 10) / 10;

function ratesBetween(a: TrafficCounts | undefined, b: TrafficCounts, secs: number): Rates {
  if (!a || secs <= 0) return NO_RATE;
  return { inPerSec: round1((b.messagesIn - a.messagesIn) / secs), outPerSec: round1((b.messagesOut - a.messagesOut) / secs) };
}

/** Message rates per protocol and in total, between two snapshots. */
function measure(prev: ServerSnapshot, now: ServerSnapshot): Map<string, Rates> {
  const secs = (now.takenAt - prev.takenAt) / 1000;
  const before = new Map<string, TrafficCounts>();
  for (const v of prev.vhosts) for (const p of v.protocols) before.set(`${v.name}/${p.name}`, p);
  const rates = new Map<string, Rates>([['', ratesBetween(prev.totals, now.totals, secs)]]);
  for (const v of now.vhosts) for (const p of v.protocols) rates.set(`${v.name}/${p.name}`, ratesBetween(before.get(`${v.name}/${p.name}`), p, secs));
  return rates;
}

/** The wire format (documented in README.md beside this file). */
function render(st: VhostState, s: ServerSnapshot): string {
  const rate = (key: string) => st.rates.get(key) ?? NO_RATE;
  return JSON.stringify({
    version: s.version,
    hostname: s.hostname,
    pid: s.pid,
    instance: s.instance ?? null,
    time: s.takenAt,
    uptimeSecs: Math.floor((s.takenAt - s.startedAt) / 1000),
    draining: s.draining,
    reloads: s.reloads,
    updateMs: st.updateMs,
    memory: s.memory,
    listeners: s.listeners,
    vhosts: s.vhosts.map((v) => ({
      name: v.name,
      httpRequests: v.httpRequests,
      protocols: v.protocols.map((p) => ({ ...p, ...rate(`${v.name}/${p.name}`) })),
    })),
    totals: { ...s.totals, ...rate('') },
    threads: s.threads.map((t) => ({ index: t.index, time: t.takenAt, connections: t.totals.connections, messagesIn: t.totals.messagesIn, messagesOut: t.totals.messagesOut, httpRequests: t.totals.httpRequests })),
    history: st.history,
  });
}

function tick(vhost: ProtocolVhostInit, st: VhostState): void {
  const now = vhost.server.snapshot();
  st.rates = measure(st.last, now);
  st.last = now;
  const total = st.rates.get('') ?? NO_RATE;
  st.history.push({ t: now.takenAt, in: total.inPerSec, out: total.outPerSec });
  if (st.history.length > HISTORY) st.history.splice(0, st.history.length - HISTORY);
  st.text = render(st, now);
  st.version++;
  vhost.requestWritableAll();
}

export default definePlugin({
  apiVersion: 2,
  name: 'server-status',
  protocols: (protocol) => [
    protocol({
      name: 'lws-server-status',
      options,
      init(vhost, opts, previous): VhostState {
        // After a reload the chart goes on where the replaced instance was (a copy: that one keeps ticking for its own clients).
        const last = previous?.last ?? vhost.server.snapshot();
        const st: VhostState = { updateMs: opts['update-ms'], last, rates: previous?.rates ?? new Map(), history: [...(previous?.history ?? [])], text: '', version: 0 };
        st.text = render(st, last);
        // One timer per vhost, cancelled by the framework at destroy.
        vhost.setInterval(st.updateMs, () => tick(vhost, st));
        return st;
      },
      websocket: {
        session: (): Session => ({ sent: 0, first: undefined }),
        established(conn) {
          const st = conn.vhost.state;
          conn.session.first = render(st, conn.vhost.server.snapshot());
          conn.session.sent = st.version;
          conn.requestWritable();
        },
        writable(conn) {
          const s = conn.session;
          const st = conn.vhost.state;
          if (s.first !== undefined) {
            conn.write(s.first, false);
            s.first = undefined;
            // A tick that came before this writable is sent at the next one.
            if (s.sent !== st.version) conn.requestWritable();
            return;
          }
          // Ticks that pile up behind a slow reader coalesce into the latest one.
          if (s.sent === st.version) return;
          s.sent = st.version;
          conn.write(st.text, false);
        },
      },
    }),
  ],
});
