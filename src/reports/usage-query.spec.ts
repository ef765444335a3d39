import { DomainError } from '../common/errors';
import { toApiError } from '../common/openai-error.filter';
import { parseFormat, parseGroupBy, parseUsageQuery } from './usage-query';

const paramOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    const wire = toApiError(err);
    return { status: wire.status, param: wire.param, code: wire.code };
  }
  throw new Error('did not throw');
};

describe('parseGroupBy', () => {
  it('reads nothing, one key, a comma list and repeated parameters, keeping the order', () => {
    expect(parseGroupBy(undefined)).toEqual([]);
    expect(parseGroupBy('')).toEqual([]);
    expect(parseGroupBy('model')).toEqual(['model']);
    expect(parseGroupBy('day, model,api_key')).toEqual(['day', 'model', 'api_key']);
    expect(parseGroupBy(['tenant', 'day'])).toEqual(['tenant', 'day']);
    expect(parseGroupBy(['model,day', 'api_key'])).toEqual(['model', 'day', 'api_key']);
  });

  it.each([['week'], ['model,'], ['model,model'], ['Model'], [['model', 'model']], [[1]]])('refuses %j with param group_by', (value) => {
    expect(paramOf(() => parseGroupBy(value))).toEqual({ status: 400, param: 'group_by', code: 'invalid_value' });
  });
});

describe('parseFormat', () => {
  it('defaults to json, accepts csv, refuses anything else', () => {
    expect(parseFormat(undefined)).toBe('json');
    expect(parseFormat('csv')).toBe('csv');
    expect(paramOf(() => parseFormat('xml')).param).toBe('format');
    expect(paramOf(() => parseFormat(['csv', 'json'])).param).toBe('format');
  });
});

describe('parseUsageQuery', () => {
  it('parses a full admin query', () => {
    expect(parseUsageQuery({ tenant_id: 't', from: '2026-01-01T00:00:00Z', to: '2026-02-01', group_by: 'model,day', format: 'csv' }, true)).toEqual({
      tenantId: 't',
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-02-01T00:00:00Z'),
      groupBy: ['model', 'day'],
      format: 'csv',
    });
  });

  it('names the bad parameter', () => {
    expect(paramOf(() => parseUsageQuery({ from: 'yesterday' }, true)).param).toBe('from');
    expect(paramOf(() => parseUsageQuery({ to: '2026-02-30T00:00:00Z' }, true)).param).toBe('to');
    expect(paramOf(() => parseUsageQuery({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, true)).param).toBe('to');
    expect(paramOf(() => parseUsageQuery({ tenant_id: 'x' }, false))).toEqual({ status: 400, param: 'tenant_id', code: 'unknown_parameter' });
    expect(paramOf(() => parseUsageQuery({ colour: 'red' }, true)).code).toBe('unknown_parameter');
    expect(paramOf(() => parseUsageQuery({ from: ['2026-01-01', '2026-01-02'] }, true)).param).toBe('from');
  });

  it('accepts an empty range (from == to)', () => {
    expect(parseUsageQuery({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, true).groupBy).toEqual([]);
  });
});
