/** @module The bench's evidence for missed targets: profile windows and origins are counted right, and every findings.md heading it links to exists. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVIDENCE, outsideJs, renderHotspots } from '../bench/lib/evidence.ts';
import { PROFILE_LOADS, summarizeProfiles } from '../bench/lib/profile-load.ts';

const REPO = path.resolve(import.meta.dirname, '..');

/** GitHub's heading ids, as test/docs.test.ts derives them (plain headings are enough here). */
const headingIds = (md: string) =>
  new Set(
    md
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => l.replace(/^#+ /, '').replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')),
  );

describe('bench evidence', () => {
  it('counts only the samples inside the window, by function and by origin', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('(program)', '') },
        { id: 3, callFrame: frame('write', `file://${REPO}/server/session/connection.ts`) },
        { id: 4, callFrame: frame('receive', `file://${REPO}/plugins/echo/echo.ts?tsws-generation=1`) },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      startTime: 0,
      endTime: 10_000,
      // One sample per millisecond: 0–3 ms startup (all write), then the window 4–7 ms.
      samples: [3, 3, 3, 3, 2, 3, 4, 1, 5, 3],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
    };
    const s = summarizeProfiles([{ profile, fromUs: 4500, toUs: 9500 }], REPO, 10);
    // In the window (5–9 ms): program, write, receive, idle, gc: 4 busy of 5.
    expect(s.busySamples).toBe(4);
    expect(s.busyThreads).toBeCloseTo(0.8);
    expect(s.top.map((h) => [h.fn, h.where, h.share])).toEqual(
      expect.arrayContaining([
        ['write', 'server/session/connection.ts', 0.25],
        ['receive', 'plugins/echo/echo.ts', 0.25],
      ]),
    );
    expect(s.byOrigin).toEqual({ native: 0.25, gc: 0.25, tsws: 0.25, plugin: 0.25, node: 0, deps: 0 });

    // A second thread started 3 ms later (its own clock origin), busy in its window: two threads' worth at most.
    const later = { ...profile, samples: [3, 3, 3, 3, 3, 3, 3, 1, 1, 1] };
    const both = summarizeProfiles([{ profile, fromUs: 4500, toUs: 9500 }, { profile: later, fromUs: 1500, toUs: 6500 }], REPO, 10);
    // The second thread's window is 2–6 ms: five write samples.
    expect(both.busySamples).toBe(9);
    expect(both.busyThreads).toBeCloseTo(1.8);
    expect(both.top[0]).toEqual({ fn: 'write', where: 'server/session/connection.ts', share: 6 / 9 });
  });

  it("gives shares of the server's whole CPU: what V8 sampled as idle while the process used CPU is its own row", () => {
    const s = { busySamples: 4, busyThreads: 0.25, top: [{ fn: 'write', where: 'server/session/connection.ts', share: 0.5 }], byOrigin: { native: 0.5, gc: 0, tsws: 0.5, plugin: 0, node: 0, deps: 0 } };
    // /proc says one core: three quarters of it ran outside JS calls.
    expect(outsideJs(s, 1)).toBeCloseTo(0.75);
    const md = renderHotspots(s, 1);
    expect(md).toContain('| 75.0 % | outside JS calls: uWS.js and the kernel in the poll phase');
    expect(md).toContain('| 12.5 % | `write` | `server/session/connection.ts` |');
    // No CPU figure, or one below what the samples saw (noise): shares of the samples, said so.
    for (const cpu of [Number.NaN, 0.2]) {
      expect(outsideJs(s, cpu)).toBeUndefined();
      expect(renderHotspots(s, cpu)).toContain('| 50.0 % | `write` |');
    }
  });

  it('links every scenario to a heading of bench/findings.md, and profiles only loads that exist', () => {
    const ids = headingIds(fs.readFileSync(path.join(REPO, 'bench', 'findings.md'), 'utf8'));
    const missing = Object.entries(EVIDENCE).filter(([, e]) => !ids.has(e.findings)).map(([id, e]) => `${id} → #${e.findings}`);
    expect(missing).toEqual([]);
    for (const e of Object.values(EVIDENCE)) if (e.profile) expect(Object.keys(PROFILE_LOADS)).toContain(e.profile);
  });
});
