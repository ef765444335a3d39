import { parse } from 'csv-parse/sync';
import { invoiceCsv, InvoiceDocument } from '../invoices/invoice-export';
import { toUsageRow, usageCsv } from '../reports/usage-report';
import { zeroAggregate } from '../reports/usage-sql';
import { escapeFormula, safeCsv } from './csv';

describe('escapeFormula', () => {
  it.each(['=1+2', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx', '＝1'])('prefixes %j with a single quote', (text) => {
    expect(escapeFormula(text)).toBe(`'${text}`);
  });

  it.each(['', 'seed-1-6', 'a=b', "'quoted", ' =x'])('leaves %j as it is', (text) => {
    expect(escapeFormula(text)).toBe(text);
  });
});

describe('safeCsv', () => {
  const csv = safeCsv(
    ['name', 'amount'],
    [
      ['=HYPERLINK("http://x")', '-0.000375'],
      ['-bad', 12],
      ['ok', '=1+1'],
      [null, undefined],
    ],
    new Set(['amount']),
  );

  it('escapes text cells, keeps decimal numbers in numeric columns, escapes anything else there', () => {
    expect(parse(csv, { columns: true })).toEqual([
      { name: `'=HYPERLINK("http://x")`, amount: '-0.000375' },
      { name: "'-bad", amount: '12' },
      { name: 'ok', amount: "'=1+1" },
      { name: '', amount: '' },
    ]);
  });

  it('writes a header row', () => {
    expect(csv.split('\n')[0]).toBe('name,amount');
  });
});

describe('the CSV exports use it', () => {
  it('usage report: a hostile model name is escaped, counts and costs stay numeric', () => {
    const row = toUsageRow({ ...zeroAggregate(), model: '=cmd|calc', api_key_id: '@k', requests: '2', cost: '0.5' }, ['model', 'api_key']);
    const [parsed] = parse(usageCsv([row], ['model', 'api_key']), { columns: true });
    expect(parsed).toMatchObject({ model: "'=cmd|calc", api_key_id: "'@k", requests: '2', cost: '0.5' });
  });

  it('invoice: a hostile model name is escaped, a negative rounding adjustment stays numeric', () => {
    const line = { model: '+evil', kind: 'input', quantity: 3, unit_price: '0.25', amount: '0.00000075', amount_rounded: '0.01', price_id: 'p1', price_effective_from: '2025-01-01T00:00:00.000Z' };
    const doc = { lines: [line], total: '0.00000075', total_rounded: '0.00', rounding_adjustment: '-0.01' } as unknown as InvoiceDocument;
    const rows = parse(invoiceCsv(doc), { columns: true });
    expect(rows[0]).toMatchObject({ model: "'+evil", quantity: '3', unit_price: '0.25', amount: '0.00000075' });
    expect(rows[1]).toMatchObject({ kind: 'rounding', amount: '0', amount_rounded: '-0.01' });
    expect(rows[2]).toMatchObject({ kind: 'total', amount: '0.00000075', amount_rounded: '0.00' });
  });
});
