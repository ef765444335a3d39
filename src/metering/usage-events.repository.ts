import type { PendingEvent } from '../billing/charge-plan';
import { Prisma } from '../generated/prisma/client';
import { NamedSql } from '../common/sql/named-sql';
import { SqlClient } from '../common/sql/sql-client';
import { unnestInsert, unnestRows, UnnestColumn } from '../common/sql/unnest';
import type { Usage } from '../providers/provider';
import type { ResponseRow } from './outbox-writer';
import type { FinalUsage } from './usage-event';

/** An uncharged, finished usage event, locked for its charge. */
export interface ChargeableEventRow extends PendingEvent {
  reservationId: string | null;
  createdAt: Date;
}

interface IdRow {
  id: string;
}

const RESPONSE_COLUMNS: UnnestColumn<ResponseRow>[] = [
  { column: 'id', pgType: 'text', value: (x) => x.id },
  { column: 'tenant_id', pgType: 'uuid', value: (x) => x.tenantId },
  { column: 'api_key_id', pgType: 'uuid', value: (x) => x.apiKeyId },
  { column: 'model', pgType: 'text', value: (x) => x.model },
  { column: 'status', pgType: 'text', value: (x) => x.status, castTo: 'response_status' },
  { column: 'instructions', pgType: 'text', value: (x) => storableText(x.instructions) },
  { column: 'input', pgType: 'text', value: (x) => storableJson(x.input), castTo: 'jsonb' },
  { column: 'output', pgType: 'text', value: (x) => storableJson(x.output), castTo: 'jsonb' },
  { column: 'usage', pgType: 'text', value: (x) => storableJson(x.usage), castTo: 'jsonb' },
  { column: 'settings', pgType: 'text', value: (x) => storableJson(x.settings), castTo: 'jsonb' },
  { column: 'previous_response_id', pgType: 'text', value: (x) => x.previousResponseId },
  { column: 'context_cache', pgType: 'text', value: (x) => storableJson(x.contextCache), castTo: 'jsonb' },
  { column: 'created_at', pgType: 'timestamptz', value: (x) => x.createdAt },
  { column: 'completed_at', pgType: 'timestamptz', value: (x) => x.completedAt },
];

const FINAL_USAGE_COLUMNS: UnnestColumn<FinalUsage>[] = [
  { column: 'id', pgType: 'uuid', value: (x) => x.usageEventId },
  { column: 'input_tokens', pgType: 'int', value: (x) => x.billable.inputTokens },
  { column: 'cached_tokens', pgType: 'int', value: (x) => x.billable.cachedTokens },
  { column: 'output_tokens', pgType: 'int', value: (x) => x.billable.outputTokens },
  { column: 'reasoning_tokens', pgType: 'int', value: (x) => x.billable.reasoningTokens },
  { column: 'overrun_input', pgType: 'int', value: (x) => x.overrun.inputTokens },
  { column: 'overrun_output', pgType: 'int', value: (x) => x.overrun.outputTokens },
];

/**
 * Stores the responses and finishes their pending usage events in one statement (a data-modifying
 * CTE: atomic, and a single round trip). Returns the ids of the events this call finished.
 */
export async function storeAndFinish(db: NamedSql, responses: ResponseRow[], usages: FinalUsage[]): Promise<Set<string>> {
  const rows = await db.rows<IdRow>(
    'store_and_finish',
    Prisma.sql`
    WITH stored AS (${unnestInsert('responses', RESPONSE_COLUMNS, responses)})
    UPDATE usage_events e
       SET input_tokens = u.input_tokens, cached_tokens = u.cached_tokens, output_tokens = u.output_tokens,
           reasoning_tokens = u.reasoning_tokens, overrun_input_tokens = u.overrun_input,
           overrun_output_tokens = u.overrun_output, state = 'final', lease_expires_at = NULL
      FROM ${unnestRows(FINAL_USAGE_COLUMNS, usages)}
     WHERE e.id = u.id AND e.state = 'pending'
    RETURNING e.id`,
  );
  return new Set(rows.map((row) => row.id));
}

interface Checkpoint {
  usageEventId: string;
  usage: Usage;
}

const CHECKPOINT_COLUMNS: UnnestColumn<Checkpoint>[] = [
  { column: 'id', pgType: 'uuid', value: (c) => c.usageEventId },
  { column: 'input_tokens', pgType: 'int', value: (c) => c.usage.inputTokens },
  { column: 'cached_tokens', pgType: 'int', value: (c) => c.usage.cachedTokens },
  { column: 'output_tokens', pgType: 'int', value: (c) => c.usage.outputTokens },
  { column: 'reasoning_tokens', pgType: 'int', value: (c) => c.usage.reasoningTokens },
];

/** Records running requests' progress on their pending events and renews their leases. */
export async function checkpointPending(db: SqlClient, checkpoints: Checkpoint[], leaseMs: number): Promise<void> {
  const lease = `${leaseMs} milliseconds`;
  await db.$executeRaw`
    UPDATE usage_events e
       SET input_tokens = u.input_tokens, cached_tokens = u.cached_tokens, output_tokens = u.output_tokens,
           reasoning_tokens = u.reasoning_tokens, checkpointed_at = now(), lease_expires_at = now() + ${lease}::interval
      FROM ${unnestRows(CHECKPOINT_COLUMNS, checkpoints)}
     WHERE e.id = u.id AND e.state = 'pending'`;
}

/**
 * Locks the events among `ids` that are finished and not yet charged, in id order, and marks them
 * charged, in one statement: the transaction that charges them commits both or neither. SKIP
 * LOCKED: an event another worker holds is that worker's to charge (if it rolls back, the relay
 * queues it again). Rows come back in id order.
 */
export async function claimChargeable(db: SqlClient, ids: string[]): Promise<ChargeableEventRow[]> {
  const rows = await db.$queryRaw<ChargeableEventRow[]>`
    WITH locked AS (
      SELECT id FROM usage_events
       WHERE id = ANY(${ids}::uuid[]) AND charged_at IS NULL AND state <> 'pending'
       ORDER BY id
         FOR UPDATE SKIP LOCKED
    )
    UPDATE usage_events e SET charged_at = now()
      FROM locked
     WHERE e.id = locked.id
    RETURNING e.id, e.tenant_id AS "tenantId", e.response_id AS "responseId", e.model,
              e.input_tokens AS "inputTokens", e.cached_tokens AS "cachedTokens",
              e.output_tokens AS "outputTokens", e.reasoning_tokens AS "reasoningTokens",
              e.requested_at AS "requestedAt", e.price_id AS "priceId", e.reservation_id AS "reservationId",
              e.created_at AS "createdAt"`;
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Finished events still uncharged that were written before `cutoff`, oldest first, at most `limit` ids. */
export async function unchargedBefore(db: SqlClient, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<IdRow[]>`
    SELECT id FROM usage_events
     WHERE charged_at IS NULL AND state <> 'pending' AND created_at < ${cutoff}::timestamptz
     ORDER BY created_at LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** Who an event is for and whether it is charged yet; null when there is no such event. */
export async function eventChargeState(db: SqlClient, id: string): Promise<{ tenantId: string; responseId: string; chargedAt: Date | null } | null> {
  const [row] = await db.$queryRaw<Array<{ tenantId: string; responseId: string; chargedAt: Date | null }>>`
    SELECT tenant_id AS "tenantId", response_id AS "responseId", charged_at AS "chargedAt" FROM usage_events WHERE id = ${id}::uuid`;
  return row ?? null;
}

/** Text Postgres accepts: no NUL, no lone surrogate (a model's bytes must never fail a save). */
export function storableText(text: string | null): string | null {
  if (text === null) return null;
  const clean = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return clean.isWellFormed() ? clean : clean.toWellFormed();
}

/** JSON text that jsonb accepts: strings cleaned as storableText does, only when needed. */
export function storableJson(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const json = JSON.stringify(value);
  if (!json.includes('\\u0000') && !/\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? storableText(v) : v));
}
