import { Injectable, Logger } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

/** A stored response row (null when the request asked for store: false). */
export interface ResponseRow {
  id: string;
  tenantId: string;
  apiKeyId: string;
  model: string;
  status: string;
  instructions: string | null;
  input: unknown;
  output: unknown;
  usage: unknown;
  settings: unknown;
  previousResponseId: string | null;
  contextCache: unknown;
  createdAt: Date;
  completedAt: Date | null;
}

export interface UsageEventRow {
  id: string;
  tenantId: string;
  apiKeyId: string;
  responseId: string;
  model: string;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  requestedAt: Date;
  reservationId: string | null;
}

interface Pending {
  response: ResponseRow | null;
  event: UsageEventRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most rows written in one transaction. */
const MAX_BATCH = 256;

/**
 * Group commit for the outbox: the responses and usage events of requests finishing at the same
 * moment are written in one statement, and each request is answered only
 * once its rows are committed. Fewer round trips and client work per request; nothing is answered
 * before it is durable. A batch that fails is retried row by row, so one bad row fails only itself.
 */
@Injectable()
export class OutboxWriter {
  private readonly logger = new Logger(OutboxWriter.name);
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly prisma: PrismaService) {}

  write(response: ResponseRow | null, event: UsageEventRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ response, event, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    void this.insert(batch).then(
      () => batch.forEach((p) => p.resolve()),
      async (err) => {
        if (batch.length === 1) return batch[0].reject(err);
        this.logger.warn(`outbox batch of ${batch.length} failed (${(err as Error).message}); writing row by row`);
        for (const p of batch) await this.insert([p]).then(p.resolve, p.reject);
      },
    );
  }

  /** Both tables in one statement (a data-modifying CTE): atomic, and a single round trip. */
  private async insert(batch: Pending[]): Promise<void> {
    const r = batch.flatMap((p) => (p.response ? [p.response] : []));
    const e = batch.map((p) => p.event);
    const col = <T, V>(rows: T[], f: (row: T) => V) => rows.map(f);
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    await this.prisma.$executeRaw`
      WITH stored AS (
        INSERT INTO responses (id, tenant_id, api_key_id, model, status, instructions, input, output, usage, settings,
                               previous_response_id, context_cache, created_at, completed_at)
        SELECT id, tenant_id, api_key_id, model, status::response_status, instructions, input::jsonb, output::jsonb,
               usage::jsonb, settings::jsonb, previous_response_id, context_cache::jsonb, created_at, completed_at
          FROM unnest(${col(r, (x) => x.id)}::text[], ${col(r, (x) => x.tenantId)}::uuid[], ${col(r, (x) => x.apiKeyId)}::uuid[],
                      ${col(r, (x) => x.model)}::text[], ${col(r, (x) => x.status)}::text[], ${col(r, (x) => x.instructions)}::text[],
                      ${col(r, (x) => json(x.input))}::text[], ${col(r, (x) => json(x.output))}::text[],
                      ${col(r, (x) => json(x.usage))}::text[], ${col(r, (x) => json(x.settings))}::text[],
                      ${col(r, (x) => x.previousResponseId)}::text[], ${col(r, (x) => json(x.contextCache))}::text[],
                      ${col(r, (x) => x.createdAt)}::timestamptz[], ${col(r, (x) => x.completedAt)}::timestamptz[])
               AS u(id, tenant_id, api_key_id, model, status, instructions, input, output, usage, settings,
                    previous_response_id, context_cache, created_at, completed_at)
      )
      INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens,
                                output_tokens, reasoning_tokens, requested_at, reservation_id)
      SELECT * FROM unnest(${col(e, (x) => x.id)}::uuid[], ${col(e, (x) => x.tenantId)}::uuid[],
                           ${col(e, (x) => x.apiKeyId)}::uuid[], ${col(e, (x) => x.responseId)}::text[],
                           ${col(e, (x) => x.model)}::text[], ${col(e, (x) => x.inputTokens)}::int[],
                           ${col(e, (x) => x.cachedTokens)}::int[], ${col(e, (x) => x.outputTokens)}::int[],
                           ${col(e, (x) => x.reasoningTokens)}::int[], ${col(e, (x) => x.requestedAt)}::timestamptz[],
                           ${col(e, (x) => x.reservationId)}::uuid[])`;
  }
}
