import type { PoolClient } from 'pg';
import { Prisma } from '../../generated/prisma/client';
import type { UnsafeSqlClient } from './sql-client';

/** Statement names by text: each text is prepared once per connection, its plan reused. */
const names = new Map<string, string>();
/** Beyond this many distinct texts, statements go unnamed (the texts of the charge path are few and fixed). */
const MAX_NAMED = 64;

function nameOf(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_NAMED) return known;
  const name = `tx_${names.size}`;
  names.set(text, name);
  return name;
}

/** Raw statements in an open `pg` transaction, called the way a Prisma transaction is. */
export class PgTransaction implements UnsafeSqlClient {
  constructor(readonly client: PoolClient) {}

  async $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
    return (await this.run(query, values)).rows as T;
  }

  async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
    return (await this.run(query, values)).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(text: string, ...values: unknown[]): Promise<T> {
    return (await this.client.query({ name: nameOf(text), text, values })).rows as T;
  }

  private run(query: TemplateStringsArray | Prisma.Sql, values: unknown[]) {
    const sql = query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
    return this.client.query({ name: nameOf(sql.text), text: sql.text, values: sql.values });
  }
}
