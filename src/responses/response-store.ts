import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import type { ResponseRow } from '../metering/outbox-writer';
import { PrismaService } from '../prisma/prisma.service';
import type { ContextCache } from '../providers/provider';
import type { InputItem, OutputItem, Turn } from './input-items';
import type { ApiUsage, ResponseRecord, ResponseSettings } from './response-object';
import { selectChain, selectItems, StoredItem } from './responses.repository';

/** How many earlier turns a conversation may have. */
const MAX_CHAIN = 1000;

/** Stored responses (tenant-scoped: another tenant's response does not exist). */
@Injectable()
export class ResponseStore {
  constructor(private readonly prisma: PrismaService) {}

  /** The conversation ending at `responseId`, oldest turn first; null when not found for this tenant. */
  async loadChain(tenantId: string, responseId: string): Promise<{ turns: Turn[]; cache: ContextCache | null } | null> {
    const rows = await selectChain(this.prisma, tenantId, responseId, MAX_CHAIN);
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
  async findItems(tenantId: string, ids: string[]): Promise<Map<string, StoredItem>> {
    const items = await selectItems(this.prisma, tenantId, ids);
    return new Map(items.map((item) => [String(item.id), item]));
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
