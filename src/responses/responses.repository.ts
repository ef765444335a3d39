import { SqlClient } from '../common/sql/sql-client';
import type { ContextCache } from '../providers/provider';
import type { InputItem, OutputItem } from './input-items';
import type { ResponseRecord } from './response-object';

/** One turn of a conversation as stored. */
export interface ChainRow {
  id: string;
  input: InputItem[];
  output: OutputItem[];
  context_cache: ContextCache | null;
}

/** A stored input or output item (it always has a type, and an id when it can be referenced). */
export type StoredItem = Record<string, unknown> & { type: string };

/** A stored response not deleted, with this turn's input. */
export interface StoredResponse extends ResponseRecord {
  input: InputItem[];
}

interface ItemRow {
  item: StoredItem;
}

/** The tenant's conversation ending at `responseId`, oldest turn first, at most `maxDepth` earlier turns. */
export function selectChain(db: SqlClient, tenantId: string, responseId: string, maxDepth: number): Promise<ChainRow[]> {
  return db.$queryRaw<ChainRow[]>`
    WITH RECURSIVE chain AS (
      SELECT id, previous_response_id, input, output, context_cache, 0 AS depth
        FROM responses WHERE id = ${responseId} AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL
      UNION ALL
      SELECT r.id, r.previous_response_id, r.input, r.output, r.context_cache, c.depth + 1
        FROM responses r JOIN chain c ON r.id = c.previous_response_id
       WHERE r.tenant_id = ${tenantId}::uuid AND r.deleted_at IS NULL AND c.depth < ${maxDepth}
    )
    SELECT id, input, output, context_cache FROM chain ORDER BY depth DESC`;
}

/** The newest stored copy of each item with one of these ids, among the tenant's responses not deleted. */
export async function selectItems(db: SqlClient, tenantId: string, ids: string[]): Promise<StoredItem[]> {
  const rows = await db.$queryRaw<ItemRow[]>`
    SELECT DISTINCT ON (item->>'id') item
      FROM responses r, jsonb_array_elements(r.output || r.input) AS item
     WHERE r.tenant_id = ${tenantId}::uuid AND r.deleted_at IS NULL AND item->>'id' = ANY(${ids}::text[])
     ORDER BY item->>'id', r.created_at DESC`;
  return rows.map((r) => r.item);
}

/** The tenant's response with this id, unless deleted. */
export async function selectResponse(db: SqlClient, tenantId: string, id: string): Promise<StoredResponse | null> {
  const [row] = await db.$queryRaw<StoredResponse[]>`
    SELECT id, model, status::text AS status, instructions, input, output, usage, settings,
           previous_response_id AS "previousResponseId", created_at AS "createdAt", completed_at AS "completedAt"
      FROM responses WHERE id = ${id} AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL`;
  return row ?? null;
}

/** Marks the tenant's response deleted at `at` and drops its content (the context cache stays); false when there is none to delete. */
export async function deleteResponseContent(db: SqlClient, tenantId: string, id: string, at: Date): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE responses SET deleted_at = ${at}::timestamptz, input = '[]'::jsonb, output = '[]'::jsonb, instructions = NULL
     WHERE id = ${id} AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL`;
  return count > 0;
}
