import { describe, expect, expectTypeOf, it } from 'vitest';
import { Diagnostics, Site } from './coerce.ts';
import { key, later, type ReadContext, type Values } from './key-spec.ts';
import { parseLwswsJson } from './lwsws-json.ts';
import { readBlock } from './read-block.ts';
import { bool, int, string } from './value-types.ts';

const ctx: ReadContext = { expand: { path: (p) => `/cfg/${p}`, text: (t) => t } };
let computed = 0;
const KEYS = {
  size: key(int(1, 10), { default: 4, why: 'test', doc: 'a size' }),
  name: key(string, { doc: 'a name' }),
  here: key(string, { defaultFrom: (c) => (computed++, c.expand.path('x')), shown: '<cfg>/x', why: 'test', doc: 'computed' }),
  flag: key(bool, { default: false, why: 'test', doc: 'a flag' }),
  old: later('int', 'not here', 'an lwsws key'),
};
const OTHER = { port: key(int(), { doc: 'elsewhere' }) };

function read(text: string) {
  const diag = new Diagnostics();
  const doc = parseLwswsJson(text, 'f');
  const values = readBlock(doc.value as Record<string, unknown>, new Site(doc, [], diag), 'test', KEYS, [{ name: 'the other block', keys: OTHER }], ctx);
  return { values, diag, all: [...diag.errors, ...diag.warnings].map((e) => e.code) };
}

describe('readBlock: one generic reader for every block', () => {
  it('gives each absent key its declared default, computed ones from the context, optional ones undefined', () => {
    const { values, all } = read('{}');
    expect(values).toEqual({ size: 4, name: undefined, here: '/cfg/x', flag: false });
    expect(all).toEqual([]);
  });

  it('parses what is written into the declared type', () => {
    const before = computed;
    const { values } = read('{"size": "7", "name": 3, "here": "h", "flag": "on"}');
    expect(values).toEqual({ size: 7, name: '3', here: 'h', flag: true });
    // a written key never asks for its computed default
    expect(computed).toBe(before);
  });

  it('reports a refused value at its file:line:col and reads it as the default', () => {
    const { values, diag } = read('{\n "size": "11"\n}');
    expect(values.size).toBe(4);
    expect(diag.errors.map((e) => e.code)).toEqual(['TSWS_ERR_CONFIG_TYPE']);
    expect(diag.errors[0]?.message).toMatch(/^f:2:2: "size" must be an integer from 1 to 10, got "11"/);
  });

  it('names problems in the order written: unknown keys with a suggestion, keys of another block, unimplemented ones', () => {
    const { values, diag, all } = read('{"port": "1", "sise": "2", "old": "3"}');
    expect(all).toEqual(['TSWS_ERR_CONFIG_UNKNOWN_KEY', 'TSWS_WARN_CONFIG_WRONG_PLACE', 'TSWS_WARN_CONFIG_NOT_IMPLEMENTED']);
    expect(diag.errors[0]?.message).toMatch(/unknown test key "sise"\. Did you mean "size"\?/);
    expect(diag.warnings[0]?.message).toMatch(/"port" belongs in the other block, not in test/);
    expect(Object.keys(values)).not.toContain('old');
  });

  it('types each value from its declaration: defaulted keys are never undefined, unimplemented ones are absent', () => {
    expectTypeOf<Values<typeof KEYS>>().toEqualTypeOf<{
      readonly size: number;
      readonly name: string | undefined;
      readonly here: string;
      readonly flag: boolean;
    }>();
  });
});
