import { describe, expect, it } from 'vitest';
import { REGISTRY, TswsError } from '../base/errors.ts';
import { CLIENT_CODES, clientError } from './errors.ts';

describe("tsws/client's own errors", () => {
  it('carry codes of the registry, with the very message the registry renders (the client writes them again so the browser loads nothing of the server)', () => {
    expect(Object.keys(CLIENT_CODES).length).toBeGreaterThan(0);
    for (const code of Object.keys(CLIENT_CODES) as (keyof typeof CLIENT_CODES)[]) {
      expect(Object.hasOwn(REGISTRY, code), code).toBe(true);
      const params = { channel: 'room:1' };
      const ours = (clientError as (c: string, p: unknown) => Error & { code: string })(code, params);
      expect(ours.code).toBe(code);
      expect(ours.message).toBe(new TswsError(code, params as never).message);
    }
  });
});
