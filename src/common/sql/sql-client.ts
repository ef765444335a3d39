import type { Prisma } from '../../generated/prisma/client';

type SqlArg = TemplateStringsArray | Prisma.Sql;

/**
 * What a repository function needs for raw statements: a Prisma client or transaction, or a
 * plain `pg` transaction (PgTransaction).
 */
export interface SqlClient {
  $queryRaw<T = unknown>(query: SqlArg, ...values: unknown[]): Promise<T>;
  $executeRaw(query: SqlArg, ...values: unknown[]): Promise<number>;
}

/** The same, with statements given as text and parameters. */
export interface UnsafeSqlClient extends SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}
