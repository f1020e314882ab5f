/** @module The invoker: a failing callback is counted once, logged with its code and the callback's name, and reported to the caller. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { tswsError } from '../base/errors.ts';
import { whereOf } from '../base/beacon.ts';
import { FAILED, ask, callNow, callbackFailed, type CallbackHost } from './invoke.ts';

interface Line {
  readonly code?: string;
  readonly callback?: string;
  readonly msg: string;
}

function host(): CallbackHost & { lines: Line[] } {
  const lines: Line[] = [];
  return { vhostName: 'v', protocol: 'p', log: pino({}, { write: (l: string) => void lines.push(JSON.parse(l) as Line) }), counters: { callbackErrors: 0 }, lines };
}

const SESSION = whereOf(1, 'session');
const FILTER = whereOf(1, 'filter');

describe('the invoker', () => {
  it('codes a plain throw as TSWS_ERR_PLUGIN_CALLBACK_THREW, naming the callback, and counts it', () => {
    const h = host();
    const e = callbackFailed(h, FILTER, new Error('boom'));
    expect(e.code).toBe('TSWS_ERR_PLUGIN_CALLBACK_THREW');
    expect(e.message).toMatch(/vhost "v", protocol "p": filter threw \(boom\)/);
    expect(h.counters.callbackErrors).toBe(1);
    expect(h.lines[0]).toMatchObject({ code: 'TSWS_ERR_PLUGIN_CALLBACK_THREW', callback: 'filter' });
  });

  it('keeps the code of a coded error the plugin provoked', () => {
    const h = host();
    expect(callbackFailed(h, FILTER, tswsError('TSWS_ERR_BACK_TO_BACK_WRITE', { protocol: 'p' })).code).toBe('TSWS_ERR_BACK_TO_BACK_WRITE');
    expect(h.lines[0]?.code).toBe('TSWS_ERR_BACK_TO_BACK_WRITE');
  });

  it('callNow: the answer, or FAILED (logged, coded) for a session factory that throws', () => {
    const h = host();
    expect(callNow(h, SESSION, (a: number, b: number) => a + b, 1, 2)).toBe(3);
    expect(
      callNow(h, SESSION, () => {
        throw new Error('no session');
      }, 0, 0),
    ).toBe(FAILED);
    expect(h.lines[0]).toMatchObject({ code: 'TSWS_ERR_PLUGIN_CALLBACK_THREW', callback: 'session' });
  });

  it('ask: a later answer, or FAILED for a rejection, counted once', async () => {
    const h = host();
    expect(await ask(h, FILTER, async () => 'accept' as const, 0, 0)).toBe('accept');
    expect(
      await ask(h, FILTER, async () => {
        throw new Error('later');
      }, 0, 0),
    ).toBe(FAILED);
    expect(h.counters.callbackErrors).toBe(1);
    expect(h.lines[0]?.msg).toMatch(/filter threw \(later\)/);
  });
});
