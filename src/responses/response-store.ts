import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import type { ResponseRow } from '../metering/outbox-writer';
import { PgPool } from '../prisma/pg-pool.service';
import type { ContextCache } from '../providers/provider';
import type { InputItem, Turn } from './input-items';
import type { ResponseRecord } from './response-object';
import { deleteResponseContent, selectChain, selectItems, selectResponse, StoredItem } from './responses.repository';

/** How many earlier turns a conversation may have. */
const MAX_CHAIN = 1000;

/** Stored responses (tenant-scoped: another tenant's response does not exist). */
@Injectable()
export class ResponseStore {
  constructor(private readonly pg: PgPool) {}

  /** The conversation ending at `responseId`, oldest turn first; null when not found for this tenant. */
  async loadChain(tenantId: string, responseId: string): Promise<{ turns: Turn[]; cache: ContextCache | null } | null> {
    const rows = await selectChain(this.pg, tenantId, responseId, MAX_CHAIN);
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
    const row = await selectResponse(this.pg, tenantId, id);
    if (!row) return null;
    const { input, ...record } = row;
    return { record, input };
  }

  /**
   * The tenant's stored items (input or output of a response not deleted) with these ids, by id.
   * Another tenant's item is simply absent.
   */
  async findItems(tenantId: string, ids: string[]): Promise<Map<string, StoredItem>> {
    const items = await selectItems(this.pg, tenantId, ids);
    return new Map(items.map((item) => [String(item.id), item]));
  }

  /** Deletes the content; the usage event (and so the bill) stays. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    return deleteResponseContent(this.pg, tenantId, id, new Date());
  }
}
