import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderErrorsDoc } from '../../scripts/errors-doc.ts';
import { REGISTRY, TswsError, tswsError } from './errors.ts';

describe('error registry', () => {
  it('is documented in docs/reference/errors.md exactly as generated (run npm run docs after editing)', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/reference/errors.md'), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });

  it('names every code TSWS_ERR_* or TSWS_WARN_* matching its severity', () => {
    for (const [code, entry] of Object.entries(REGISTRY)) {
      expect(code).toMatch(entry.severity === 'warning' ? /^TSWS_WARN_[A-Z0-9_]+$/ : /^TSWS_ERR_[A-Z0-9_]+$/);
      expect(entry.hint).toMatch(/\.$/);
    }
  });

  it('reads as sentences: no "?." after a suggestion, no ".." after a reason that is a sentence itself', () => {
    // A reason or detail may end a sentence (a nested error's message does); a suggestion ends in "?".
    const params = new Proxy({}, { get: (_t, key) => (key === 'suggestion' ? 'mounts' : ['reason', 'detail', 'note'].includes(String(key)) ? 'it failed.' : 'x') });
    let checked = 0;
    for (const code of Object.keys(REGISTRY) as (keyof typeof REGISTRY)[]) {
      let message: string;
      try {
        message = tswsError(code, params as never).message;
      } catch {
        continue; // a message that needs a param of another shape
      }
      checked++;
      expect(message, code).not.toMatch(/\?\.|(?<!\.)\.\.(?!\.)/);
    }
    expect(checked).toBeGreaterThan(Object.keys(REGISTRY).length / 2);
    expect(tswsError('TSWS_ERR_CONFIG_UNKNOWN_KEY', { where: 'conf.d/site:4:3', key: 'mountz', block: 'vhost', suggestion: 'mounts' }).message).toBe(
      'conf.d/site:4:3: unknown vhost key "mountz". Did you mean "mounts"? Fix the spelling or remove the key; docs/reference/configuration.md lists every key.',
    );
  });

  it('builds errors that carry code, close code, HTTP status and cause', () => {
    const cause = new Error('inner');
    const e = tswsError('TSWS_ERR_PLUGIN_CALLBACK_THREW', { vhost: 'v', protocol: 'p', callback: 'receive', reason: 'x' }, cause);
    expect(e).toBeInstanceOf(TswsError);
    expect(e.code).toBe('TSWS_ERR_PLUGIN_CALLBACK_THREW');
    expect(e.closeCode).toBe(1011);
    expect(e.cause).toBe(cause);
    expect(e.message).toMatch(/^vhost "v", protocol "p": receive threw \(x\); .*\. Fix the plugin/);
  });
});
