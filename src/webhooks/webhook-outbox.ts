import type { ClientBase } from 'pg';
import type { UnsafeSqlClient } from '../common/sql/sql-client';
import type { WebhookEventRecord } from './webhook-events';

/**
 * One statement: the event (skipped if its cause already made one) and one pending delivery for
 * every endpoint that subscribes to its type, for its tenant or for all tenants.
 */
const EMIT_SQL = `
  WITH event AS (
    INSERT INTO webhook_events (id, type, tenant_id, body, dedup_key)
    VALUES ($1, $2, $3::uuid, $4, $5)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, type, tenant_id
  )
  INSERT INTO webhook_deliveries (id, endpoint_id, event_id)
  SELECT gen_random_uuid(), w.id, event.id
    FROM event JOIN webhook_endpoints w ON event.type = ANY (w.events) AND (w.tenant_id IS NULL OR w.tenant_id = event.tenant_id)
  RETURNING id`;

const params = (e: WebhookEventRecord) => [e.id, e.type, e.tenantId, e.body, e.dedupKey];

/**
 * Writes `event` and its deliveries in the caller's transaction, so the event exists if and
 * only if the change that caused it commits. Returns the delivery ids: hand them to
 * WebhookDispatcher.enqueue after the commit (the sweeper queues any that are missed).
 */
export async function emitWebhook(tx: Pick<UnsafeSqlClient, '$queryRawUnsafe'>, event: WebhookEventRecord): Promise<string[]> {
  const rows = await tx.$queryRawUnsafe<Array<{ id: string }>>(EMIT_SQL, ...params(event));
  return rows.map((r) => r.id);
}

/** The same, in a plain `pg` client's open transaction (the hot path's statements). */
export async function emitWebhookPg(client: ClientBase, event: WebhookEventRecord): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(EMIT_SQL, params(event));
  return rows.map((r) => r.id);
}
