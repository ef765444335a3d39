import { SqlClient } from '../common/sql/sql-client';
import { AggregateRow, usageAggregateSql } from './usage-sql';

/** The usage of a range aggregated by `keys` (see usageAggregateSql); no rows for an empty range. */
export async function aggregateUsage(db: SqlClient, opts: Parameters<typeof usageAggregateSql>[0]): Promise<AggregateRow[]> {
  const sql = usageAggregateSql(opts);
  return sql ? db.$queryRaw<AggregateRow[]>(sql) : [];
}
