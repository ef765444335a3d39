import { CatalogService } from '../../src/catalog/catalog.service';
import { openDb } from './db';
import type { TestApp } from './harness';

export interface SeedPrice {
  provider?: string;
  upstream_model?: string | null;
  input_price: string;
  cached_input_price?: string;
  output_price: string;
  effective_from: string;
}

/**
 * A price version written straight into the database, for tests that need history: the admin
 * API refuses an effective_from in the past. Repeating the same version is a no-op.
 */
export async function seedPrice(databaseUrl: string, model: string, price: SeedPrice, app?: TestApp): Promise<void> {
  const db = await openDb(databaseUrl);
  try {
    await db.query(
      `INSERT INTO models (id, provider, upstream_model) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, upstream_model = excluded.upstream_model`,
      [model, price.provider ?? 'simulated', price.upstream_model ?? null],
    );
    await db.query(
      `INSERT INTO prices (id, model_id, input_price, cached_input_price, output_price, effective_from)
       VALUES (gen_random_uuid(), $1, $2::numeric, coalesce($3::numeric, $2::numeric / 10), $4::numeric, $5::timestamptz)
       ON CONFLICT (model_id, tenant_id, effective_from) DO NOTHING`,
      [model, price.input_price, price.cached_input_price ?? null, price.output_price, price.effective_from],
    );
  } finally {
    await db.end();
  }
  app?.app.get(CatalogService).invalidate(model);
}
