import { unnestInsert, unnestRows, UnnestColumn } from './unnest';

interface Row {
  id: string;
  n: number;
  doc: object;
}

const columns: UnnestColumn<Row>[] = [
  { column: 'id', pgType: 'uuid', value: (r) => r.id },
  { column: 'n', pgType: 'int', value: (r) => r.n },
  { column: 'doc', pgType: 'text', value: (r) => JSON.stringify(r.doc), castTo: 'jsonb' },
];
const rows: Row[] = [
  { id: 'a', n: 1, doc: { x: 1 } },
  { id: 'b', n: 2, doc: {} },
];

describe('unnestRows', () => {
  it('gives each column one parameter array, in the order it names the columns', () => {
    const sql = unnestRows(columns, rows, 'r');
    expect(sql.text).toBe('unnest($1::uuid[], $2::int[], $3::text[]) AS r(id, n, doc)');
    expect(sql.values).toEqual([['a', 'b'], [1, 2], ['{"x":1}', '{}']]);
  });

  it('takes no rows as empty arrays (the statement is the same for any batch size)', () => {
    expect(unnestRows(columns, []).values).toEqual([[], [], []]);
    expect(unnestRows(columns, []).text).toBe(unnestRows(columns, rows).text);
  });
});

describe('unnestInsert', () => {
  it('inserts every column from its own array, casting where asked, with constant columns first', () => {
    const sql = unnestInsert('things', columns, rows, { created: 'now()' });
    expect(sql.text).toBe(
      'INSERT INTO things (created, id, n, doc) SELECT now(), id, n, doc::jsonb FROM unnest($1::uuid[], $2::int[], $3::text[]) AS u(id, n, doc)',
    );
    expect(sql.values).toEqual([['a', 'b'], [1, 2], ['{"x":1}', '{}']]);
  });
});
