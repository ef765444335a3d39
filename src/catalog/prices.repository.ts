import type { SqlClient } from '../common/sql/sql-client';
import type { PriceVersion } from './catalog.service';

/**
 * The price versions with these ids, and every model-wide version of these models. Amounts as
 * plain decimal strings without trailing zeros (as a Decimal's toFixed() gives them).
 */
export function priceVersions(db: SqlClient, priceIds: string[], modelIds: string[]): Promise<PriceVersion[]> {
  return db.$queryRaw<PriceVersion[]>`
    SELECT id, model_id AS "modelId", tenant_id AS "tenantId", trim_scale(input_price)::text AS input,
           trim_scale(cached_input_price)::text AS "cachedInput", trim_scale(output_price)::text AS output,
           effective_from AS "effectiveFrom"
      FROM prices
     WHERE id = ANY(${priceIds}::uuid[]) OR (model_id = ANY(${modelIds}::text[]) AND tenant_id IS NULL)`;
}
