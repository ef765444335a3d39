import type { PoolClient } from 'pg';
import type { Prisma } from '../../generated/prisma/client';
import { rawQuery, textQuery } from './pg-statements';
import type { UnsafeSqlClient } from './sql-client';

/** Raw statements in an open `pg` transaction, called the way a Prisma transaction is. */
export class PgTransaction implements UnsafeSqlClient {
  constructor(readonly client: PoolClient) {}

  async $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
    return (await this.client.query(rawQuery(query, values))).rows as T;
  }

  async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
    return (await this.client.query(rawQuery(query, values))).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(text: string, ...values: unknown[]): Promise<T> {
    return (await this.client.query(textQuery(text, values))).rows as T;
  }
}
