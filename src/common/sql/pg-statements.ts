import type { QueryConfig } from 'pg';
import { Prisma } from '../../generated/prisma/client';

/** Statement names by text: each text is prepared once per connection, its plan reused. */
const names = new Map<string, string>();
/** Beyond this many distinct texts, statements go unnamed (the repositories' texts are few and fixed). */
const MAX_NAMED = 64;

function nameOf(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_NAMED) return known;
  const name = `tx_${names.size}`;
  names.set(text, name);
  return name;
}

/** A raw statement as `pg` runs it, called the way Prisma's `$queryRaw` is: prepared under the name of its text. */
export function rawQuery(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): QueryConfig {
  const sql = query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
  return textQuery(sql.text, sql.values);
}

/** The same for a statement given as text and parameters. */
export function textQuery(text: string, values: unknown[]): QueryConfig {
  return { name: nameOf(text), text, values };
}
