import { describe, expect, it } from 'vitest';
import { displayPath } from './display-path.ts';

describe('displayPath', () => {
  it('shortens a path under the working directory and keeps others whole', () => {
    expect(displayPath('/srv/tsws/conf.d/site', '/srv/tsws')).toBe('conf.d/site');
    expect(displayPath('/etc/tsws/conf', '/srv/tsws')).toBe('/etc/tsws/conf');
    expect(displayPath('/srv/..hidden/conf', '/srv')).toBe('..hidden/conf');
  });

  it('keeps the leading "/" when the working directory is "/"', () => {
    expect(displayPath('/etc/tsws/conf.d/site', '/')).toBe('/etc/tsws/conf.d/site');
  });
});
