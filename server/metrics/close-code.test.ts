import { describe, expect, it } from 'vitest';
import { closeCodeLabel } from './close-code.ts';

describe('the close code label', () => {
  it('keeps registered codes and tsws\'s own, and groups the rest by range', () => {
    expect([1000, 1006, 1008, 1011, 1015, 4001].map(closeCodeLabel)).toEqual(['1000', '1006', '1008', '1011', '1015', '4001']);
    expect([3000, 3999, 4000, 4321, 4999].map(closeCodeLabel)).toEqual(['3xxx', '3xxx', '4xxx', '4xxx', '4xxx']);
    expect([1004, 1016, 2999, 5000, 0].map(closeCodeLabel)).toEqual(['other', 'other', 'other', 'other', 'other']);
  });
});
