import { parse } from 'csv-parse/sync';
import { toUsageRow, totalsOf, usageCsv } from './usage-report';
import { zeroAggregate } from './usage-sql';

const agg = (over: Record<string, string>) => ({ ...zeroAggregate(), ...over });

describe('usage report rows', () => {
  it('puts the group keys first, converts counts and formats the exact cost', () => {
    const row = toUsageRow(agg({ day: '2026-01-02', model: 'm', requests: '3', uncharged_requests: '1', input_tokens: '30', cost: '0.000037500000000000' }), [
      'day',
      'model',
    ]);
    expect(Object.keys(row).slice(0, 2)).toEqual(['day', 'model']);
    expect(row).toMatchObject({ day: '2026-01-02', model: 'm', requests: 3, uncharged_requests: 1, input_tokens: 30, cost: '0.0000375' });
  });

  it('totals exactly (no float drift)', () => {
    const rows = [toUsageRow(agg({ requests: '1', cost: '0.1' }), []), toUsageRow(agg({ requests: '2', cost: '0.2' }), [])];
    expect(totalsOf(rows)).toMatchObject({ requests: 3, cost: '0.3' });
    expect(totalsOf([])).toMatchObject({ requests: 0, cost: '0' });
  });

  it('writes CSV with a header row that a CSV parser reads back', () => {
    const rows = [toUsageRow(agg({ model: 'a,"b"', api_key_id: 'k', requests: '1', cost: '1.5' }), ['model', 'api_key'])];
    const csv = usageCsv(rows, ['model', 'api_key']);
    const parsed = parse(csv, { columns: true });
    expect(parsed).toEqual([
      {
        model: 'a,"b"',
        api_key_id: 'k',
        requests: '1',
        uncharged_requests: '0',
        input_tokens: '0',
        cached_tokens: '0',
        output_tokens: '0',
        reasoning_tokens: '0',
        cost: '1.5',
      },
    ]);
    expect(csv.split('\n')[0]).toBe('model,api_key_id,requests,uncharged_requests,input_tokens,cached_tokens,output_tokens,reasoning_tokens,cost');
  });
});
