import { describe, expect, it } from 'vitest';
import { checkName, checkText, parseRequest } from './protocol.ts';

describe('chat protocol rules', () => {
  it('normalises names to NFC before trimming and counting: a combining accent is one letter', () => {
    const decomposed = `${'e\u0301'.repeat(32)}`;
    expect(checkName(decomposed)).toEqual({ ok: true, value: 'é'.repeat(32) });
  });

  it('accepts letters and digits of any script, space, "_", "-" and "."; nothing else', () => {
    for (const ok of ['Zoë', '小明', 'ana-maria_2', 'J. Doe', 'Ωμέγα']) expect(checkName(ok).ok, ok).toBe(true);
    for (const bad of ['a\tb', 'x\u200by', 'a\u202eb', '😀', 'a:b', 'a@b', 'rm -rf /', 'a\nb']) expect(checkName(bad).ok, JSON.stringify(bad)).toBe(false);
  });

  it('counts message length in code points and allows tab and newline only among control characters', () => {
    expect(checkText('😀'.repeat(3), 3).ok).toBe(true);
    expect(checkText('😀'.repeat(4), 3)).toMatchObject({ ok: false, error: { code: 'text-too-long' } });
    expect(checkText('line one\n\tline two', 100).ok).toBe(true);
    for (const c of ['\u0000', '\u0007', '\r', '\u007f', '\u009b']) expect(checkText(`a${c}b`, 100)).toMatchObject({ ok: false, error: { code: 'bad-text' } });
  });

  it('ignores request fields it does not use', () => {
    expect(parseRequest('{"type":"leave","id":7}', 10)).toEqual({ ok: true, value: { type: 'leave' } });
  });
});
