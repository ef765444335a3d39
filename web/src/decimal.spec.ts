import { compareDecimal } from './decimal';

describe('compareDecimal: exact order of decimal strings', () => {
  it.each([
    ['0.1', '0.1', 0],
    ['0.10', '0.1', 0],
    ['010.5', '10.50', 0],
    ['0.000000000000000002', '0.000000000000000001', 1],
    ['7.123456789012345678', '7.123456789012345679', -1], // equal as floats
    ['10', '9.999999999999999999', 1],
    ['-0.5', '0.25', -1],
    ['-1.5', '-0.25', -1],
    ['-0.25', '-1.5', 1],
    ['123', '45', 1],
    ['0', '0.000000000000000001', -1],
  ])('%s vs %s is %i', (a, b, expected) => {
    expect(compareDecimal(a, b)).toBe(expected);
  });
});
