import { Prisma } from '../generated/prisma/client';
import type { SqlClient } from '../common/sql/sql-client';
import type { PriceVersion } from './catalog.service';

/**
 * A `prices` row (alias p) as a PriceVersion. Amounts as plain decimal strings without trailing
 * zeros (as a Decimal's toFixed() gives them).
 */
export const PRICE_VERSION_COLUMNS = Prisma.sql`
  p.id, p.model_id AS "modelId", p.tenant_id AS "tenantId", trim_scale(p.input_price)::text AS input,
  trim_scale(p.cached_input_price)::text AS "cachedInput", trim_scale(p.output_price)::text AS output,
  p.effective_from AS "effectiveFrom"`;

/** The price versions with these ids, and every model-wide version of these models. */
export function priceVersions(db: SqlClient, priceIds: string[], modelIds: string[]): Promise<PriceVersion[]> {
  return db.$queryRaw<PriceVersion[]>`
    SELECT ${PRICE_VERSION_COLUMNS}
      FROM prices p
     WHERE p.id = ANY(${priceIds}::uuid[]) OR (p.model_id = ANY(${modelIds}::text[]) AND p.tenant_id IS NULL)`;
}

/** Every model-wide version of a model, newest effective_from first. */
export function modelWideVersions(db: SqlClient, modelId: string): Promise<PriceVersion[]> {
  return db.$queryRaw<PriceVersion[]>`
    SELECT ${PRICE_VERSION_COLUMNS}
      FROM prices p
     WHERE p.model_id = ${modelId} AND p.tenant_id IS NULL
     ORDER BY p.effective_from DESC`;
}

/** A tenant's own versions of a model, newest effective_from first. */
export function tenantVersions(db: SqlClient, tenantId: string, modelId: string): Promise<PriceVersion[]> {
  return db.$queryRaw<PriceVersion[]>`
    SELECT ${PRICE_VERSION_COLUMNS}
      FROM prices p
     WHERE p.tenant_id = ${tenantId}::uuid AND p.model_id = ${modelId}
     ORDER BY p.effective_from DESC`;
}

/** The model-wide version of each model in force at `at` (the latest effective_from <= at); models with none left out. */
export function modelWideVersionsAt(db: SqlClient, at: Date): Promise<PriceVersion[]> {
  return db.$queryRaw<PriceVersion[]>`
    SELECT DISTINCT ON (p.model_id) ${PRICE_VERSION_COLUMNS}
      FROM prices p
     WHERE p.tenant_id IS NULL AND p.effective_from <= ${at}::timestamptz
     ORDER BY p.model_id, p.effective_from DESC`;
}

/** The model-wide version of a model in force at `at`, or null. */
export async function modelWideVersionAt(db: SqlClient, modelId: string, at: Date): Promise<PriceVersion | null> {
  const [row] = await db.$queryRaw<PriceVersion[]>`
    SELECT ${PRICE_VERSION_COLUMNS}
      FROM prices p
     WHERE p.model_id = ${modelId} AND p.tenant_id IS NULL AND p.effective_from <= ${at}::timestamptz
     ORDER BY p.effective_from DESC
     LIMIT 1`;
  return row ?? null;
}
