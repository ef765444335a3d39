import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import type { Prisma } from '../generated/prisma/client';
import type { ResponseRow } from '../metering/outbox-writer';
import { PrismaService } from '../prisma/prisma.service';
import type { ContextCache } from '../providers/provider';
import type { InputItem, OutputItem, Turn } from './input-items';
import type { ApiUsage, ResponseRecord, ResponseSettings } from './response-object';

/** How many earlier turns a conversation may have. */
const MAX_CHAIN = 1000;

interface ChainRow {
  id: string;
  input: InputItem[];
  output: OutputItem[];
  context_cache: ContextCache | null;
}

/** Stored responses (tenant-scoped: another tenant's response does not exist). */
@Injectable()
export class ResponseStore {
  constructor(private readonly prisma: PrismaService) {}

  /** The conversation ending at `responseId`, oldest turn first; null when not found for this tenant. */
  async loadChain(tenantId: string, responseId: string): Promise<{ turns: Turn[]; cache: ContextCache | null } | null> {
    const rows = await this.prisma.$queryRaw<ChainRow[]>`
      WITH RECURSIVE chain AS (
        SELECT id, previous_response_id, input, output, context_cache, 0 AS depth
          FROM responses WHERE id = ${responseId} AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL
        UNION ALL
        SELECT r.id, r.previous_response_id, r.input, r.output, r.context_cache, c.depth + 1
          FROM responses r JOIN chain c ON r.id = c.previous_response_id
         WHERE r.tenant_id = ${tenantId}::uuid AND r.deleted_at IS NULL AND c.depth < ${MAX_CHAIN}
      )
      SELECT id, input, output, context_cache FROM chain ORDER BY depth DESC`;
    if (!rows.length) return null;
    return {
      turns: rows.map((r) => ({ input: r.input, output: r.output })),
      cache: rows[rows.length - 1].context_cache,
    };
  }

  /** The row to store for `record`, or null when the request asked for store: false. */
  responseRow(auth: TenantAuth, record: ResponseRecord, input: InputItem[], cache: ContextCache | null): ResponseRow | null {
    if (!record.settings.store) return null;
    return {
      id: record.id,
      tenantId: auth.tenantId,
      apiKeyId: auth.apiKeyId,
      model: record.model,
      status: record.status,
      instructions: record.instructions,
      input,
      output: record.output,
      usage: record.usage,
      settings: record.settings,
      previousResponseId: record.previousResponseId,
      contextCache: cache,
      createdAt: record.createdAt,
      completedAt: record.completedAt,
    };
  }

  async find(tenantId: string, id: string): Promise<{ record: ResponseRecord; input: InputItem[] } | null> {
    const row = await this.prisma.response.findFirst({ where: { id, tenantId, deletedAt: null } });
    if (!row) return null;
    return {
      record: {
        id: row.id,
        model: row.model,
        status: row.status,
        instructions: row.instructions,
        output: row.output as unknown as OutputItem[],
        usage: row.usage as unknown as ApiUsage,
        settings: row.settings as unknown as ResponseSettings,
        previousResponseId: row.previousResponseId,
        createdAt: row.createdAt,
        completedAt: row.completedAt,
      },
      input: row.input as unknown as InputItem[],
    };
  }

  /**
   * The tenant's stored items (input or output of a response not deleted) with these ids, by id.
   * Another tenant's item is simply absent.
   */
  async findItems(tenantId: string, ids: string[]): Promise<Map<string, Record<string, unknown> & { type: string }>> {
    const rows = await this.prisma.$queryRaw<Array<{ item: Record<string, unknown> & { type: string } }>>`
      SELECT DISTINCT ON (item->>'id') item
        FROM responses r, jsonb_array_elements(r.output || r.input) AS item
       WHERE r.tenant_id = ${tenantId}::uuid AND r.deleted_at IS NULL AND item->>'id' = ANY(${ids}::text[])
       ORDER BY item->>'id', r.created_at DESC`;
    return new Map(rows.map((r) => [String(r.item.id), r.item]));
  }

  /** Deletes the content; the usage event (and so the bill) stays. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.response.updateMany({
      where: { id, tenantId, deletedAt: null },
      data: { deletedAt: new Date(), input: [], output: [], instructions: null, contextCache: undefined },
    });
    return count > 0;
  }
}
