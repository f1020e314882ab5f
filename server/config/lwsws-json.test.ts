import { describe, expect, it } from 'vitest';
import { isTswsError } from '../base/errors.ts';
import { parseLwswsJson, stripHashComments } from './lwsws-json.ts';

describe('lwsws JSON dialect', () => {
  it('blanks # comments outside strings and keeps every position', () => {
    const text = '{\n  "a": "x#y", # comment\n# whole line\n  "b": 1\n}';
    const stripped = stripHashComments(text);
    expect(stripped.length).toBe(text.length);
    expect(stripped).toContain('"x#y"');
    expect(stripped).not.toContain('comment');
  });

  it('parses lwsws strings, JSON5 syntax and // comments alike', () => {
    const doc = parseLwswsJson("{ port: '7681', # lwsws\n  // json5\n  list: [1, 2,], }", 'f');
    expect(doc.value).toEqual({ port: '7681', list: [1, 2] });
  });

  it('records the line and column of keys and array elements', () => {
    const doc = parseLwswsJson('{\n "vhosts": [ {\n     "name": "a",\n# c\n     "mounts": [{"origin": "x"}]\n }]\n}', 'conf.d/x');
    expect(doc.positionOf(['vhosts'])).toEqual({ line: 2, col: 2 });
    expect(doc.positionOf(['vhosts', 0, 'name'])).toEqual({ line: 3, col: 6 });
    expect(doc.positionOf(['vhosts', 0, 'mounts', 0, 'origin'])).toEqual({ line: 5, col: 18 });
    // a key that does not exist is reported at its nearest ancestor
    expect(doc.positionOf(['vhosts', 0, 'missing'])).toEqual({ line: 2, col: 14 });
  });

  it('reports syntax errors as TSWS_ERR_CONFIG_SYNTAX with file:line:col', () => {
    let caught: unknown;
    try {
      parseLwswsJson('{\n  "a": 1\n  "b": 2\n}', 'conf.d/bad');
    } catch (err) {
      caught = err;
    }
    expect(isTswsError(caught, 'TSWS_ERR_CONFIG_SYNTAX')).toBe(true);
    expect((caught as Error).message).toMatch(/^conf\.d\/bad:3:3: syntax error/);
  });

  it('notes duplicate keys with both positions', () => {
    const doc = parseLwswsJson('{"a": 1,\n "a": 2}', 'f');
    expect(doc.duplicates).toEqual([{ path: ['a'], first: { line: 1, col: 2 }, second: { line: 2, col: 2 } }]);
    expect(doc.value).toEqual({ a: 2 });
  });
});
