import type { SqlClient } from '../common/sql/sql-client';
import type { CatalogModel } from './catalog.service';

/** The model with this id (its routing), or null. */
export async function selectModel(db: SqlClient, id: string): Promise<CatalogModel | null> {
  const [row] = await db.$queryRaw<CatalogModel[]>`SELECT id, provider, upstream_model AS "upstreamModel", created_at AS "createdAt" FROM models WHERE id = ${id}`;
  return row ?? null;
}

/** Every model, by id. */
export function selectModels(db: SqlClient): Promise<CatalogModel[]> {
  return db.$queryRaw<CatalogModel[]>`SELECT id, provider, upstream_model AS "upstreamModel", created_at AS "createdAt" FROM models ORDER BY id`;
}
