import type { Prisma } from '../../generated/prisma/client';

/** Runs a statement prepared under `name` (PgPool): for the hot path's fixed-text statements. */
export interface NamedSql {
  rows<T>(name: string, sql: Prisma.Sql): Promise<T[]>;
}
