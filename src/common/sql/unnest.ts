import { Prisma } from '../../generated/prisma/client';

/** One column of a multi-row write: its name, the type of its parameter array, and its value in a row. */
export interface UnnestColumn<T> {
  column: string;
  /** Element type of the parameter array (`uuid`, `text`, `int`, `numeric`, `timestamptz`...). */
  pgType: string;
  value: (row: T) => unknown;
  /** Type the column is cast to when inserted, when the parameter's type is not the column's (text -> jsonb, an enum). */
  castTo?: string;
}

const names = (columns: readonly { column: string }[]) => Prisma.raw(columns.map((c) => c.column).join(', '));

/**
 * `unnest($1::uuid[], $2::text[], ...) AS alias(col1, col2, ...)`: rows as a table, one parameter
 * array per column, each array built from the same column spec that names it.
 */
export function unnestRows<T>(columns: readonly UnnestColumn<T>[], rows: readonly T[], alias = 'u'): Prisma.Sql {
  const arrays = columns.map((c) => Prisma.sql`${rows.map(c.value)}::${Prisma.raw(`${c.pgType}[]`)}`);
  return Prisma.sql`unnest(${Prisma.join(arrays, ', ')}) AS ${Prisma.raw(alias)}(${names(columns)})`;
}

/**
 * `INSERT INTO table (cols) SELECT cols FROM unnest(...)`: all rows in one statement. `constants`
 * are further columns given as SQL expressions, the same for every row (e.g. `gen_random_uuid()`).
 */
export function unnestInsert<T>(table: string, columns: readonly UnnestColumn<T>[], rows: readonly T[], constants: Record<string, string> = {}): Prisma.Sql {
  const fixed = Object.entries(constants);
  const target = [...fixed.map(([column]) => column), ...columns.map((c) => c.column)].join(', ');
  const select = [...fixed.map(([, expr]) => expr), ...columns.map((c) => (c.castTo ? `${c.column}::${c.castTo}` : c.column))].join(', ');
  return Prisma.sql`INSERT INTO ${Prisma.raw(table)} (${Prisma.raw(target)}) SELECT ${Prisma.raw(select)} FROM ${unnestRows(columns, rows)}`;
}
