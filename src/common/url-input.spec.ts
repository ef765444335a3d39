import { findUrlDefect } from './url-input';

describe('findUrlDefect', () => {
  it('accepts ordinary params and queries, repeated values included', () => {
    expect(findUrlDefect({ id: 'resp_1' }, { group_by: ['model', 'day'], from: '2025-01-01' })).toBeNull();
    expect(findUrlDefect(undefined, undefined)).toBeNull();
  });

  it.each<[unknown, unknown, string]>([
    [{ id: 'a\u0000' }, {}, 'id'],
    [{ id: 'ok' }, { after: '\u0000' }, 'after'],
    [{}, { group_by: ['model', 'x\ud800'] }, 'group_by'],
    [{}, { ['k\u0000']: 'v' }, 'k\u0000'],
  ])('names the parameter: %j %j -> %s', (params, query, name) => {
    expect(findUrlDefect(params, query)).toBe(name);
  });
});
