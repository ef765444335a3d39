import { Injectable, Logger } from '@nestjs/common';
import { isPermanentDbError } from '../common/db-errors';
import { TickBatch } from '../common/tick-batch';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import type { FinalUsage } from './usage-event';

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

interface Pending {
  response: ResponseRow | null;
  usage: FinalUsage;
  resolve: (finished: boolean) => void;
  reject: (err: unknown) => void;
}

/** Most rows written in one statement. */
const MAX_BATCH = 256;

/**
 * Group commit for the end of a request: the responses of requests finishing at the same moment
 * are stored, and their pending usage events finished, in one statement; each request is answered
 * only once that is committed. A batch that fails is retried row by row, so one bad row fails only
 * itself; a row whose content the database refuses still gets its usage recorded (the content is
 * dropped and logged: no bytes from a model can cost a charge).
 */
@Injectable()
export class OutboxWriter {
  private readonly logger = new Logger(OutboxWriter.name);
  private readonly batch = new TickBatch<Pending>((batch) => this.flush(batch), MAX_BATCH);

  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  /** Resolves true when this call finished the event, false when it was already finished (e.g. interrupted). */
  write(response: ResponseRow | null, usage: FinalUsage): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.batch.push({ response, usage, resolve, reject });
    });
  }

  /** Finishes events with no response to store (the spool's replay). */
  async finishUsage(records: FinalUsage[]): Promise<void> {
    for (let i = 0; i < records.length; i += MAX_BATCH) {
      await this.insert(records.slice(i, i + MAX_BATCH).map((usage) => ({ response: null, usage, resolve: () => undefined, reject: () => undefined })));
    }
  }

  private flush(batch: Pending[]) {
    void this.insert(batch).then(
      (finished) => batch.forEach((p) => p.resolve(finished.has(p.usage.usageEventId))),
      async (err) => {
        if (batch.length === 1) return this.writeAlone(batch[0], err);
        this.logger.warn(`outbox batch of ${batch.length} failed (${(err as Error).message}); writing row by row`);
        for (const p of batch) await this.insert([p]).then((f) => p.resolve(f.has(p.usage.usageEventId)), (e) => this.writeAlone(p, e));
      },
    );
  }

  /** A single row that failed: without its content when the content was the problem. */
  private async writeAlone(p: Pending, err: unknown) {
    if (!p.response || !isPermanentDbError(err)) return p.reject(err);
    this.logger.error(`response ${p.response.id} could not be stored (${(err as Error).message}); its usage is recorded without it`);
    this.metrics.usageSaveFailures.inc({ kind: 'content_dropped' });
    await this.insert([{ ...p, response: null }]).then((f) => p.resolve(f.has(p.usage.usageEventId)), p.reject);
  }

  /** Both tables in one statement (a data-modifying CTE): atomic, and a single round trip. */
  private async insert(batch: Pending[]): Promise<Set<string>> {
    const r = batch.flatMap((p) => (p.response ? [p.response] : []));
    const u = batch.map((p) => p.usage);
    const col = <T, V>(rows: T[], f: (row: T) => V) => rows.map(f);
    const rows = await this.prisma.$queryRaw<Array<{ id: string }>>`
      WITH stored AS (
        INSERT INTO responses (id, tenant_id, api_key_id, model, status, instructions, input, output, usage, settings,
                               previous_response_id, context_cache, created_at, completed_at)
        SELECT id, tenant_id, api_key_id, model, status::response_status, instructions, input::jsonb, output::jsonb,
               usage::jsonb, settings::jsonb, previous_response_id, context_cache::jsonb, created_at, completed_at
          FROM unnest(${col(r, (x) => x.id)}::text[], ${col(r, (x) => x.tenantId)}::uuid[], ${col(r, (x) => x.apiKeyId)}::uuid[],
                      ${col(r, (x) => x.model)}::text[], ${col(r, (x) => x.status)}::text[], ${col(r, (x) => storableText(x.instructions))}::text[],
                      ${col(r, (x) => storableJson(x.input))}::text[], ${col(r, (x) => storableJson(x.output))}::text[],
                      ${col(r, (x) => storableJson(x.usage))}::text[], ${col(r, (x) => storableJson(x.settings))}::text[],
                      ${col(r, (x) => x.previousResponseId)}::text[], ${col(r, (x) => storableJson(x.contextCache))}::text[],
                      ${col(r, (x) => x.createdAt)}::timestamptz[], ${col(r, (x) => x.completedAt)}::timestamptz[])
               AS u(id, tenant_id, api_key_id, model, status, instructions, input, output, usage, settings,
                    previous_response_id, context_cache, created_at, completed_at)
      )
      UPDATE usage_events e
         SET input_tokens = u.input_tokens, cached_tokens = u.cached_tokens, output_tokens = u.output_tokens,
             reasoning_tokens = u.reasoning_tokens, overrun_input_tokens = u.overrun_input,
             overrun_output_tokens = u.overrun_output, state = 'final', lease_expires_at = NULL
        FROM unnest(${col(u, (x) => x.usageEventId)}::uuid[], ${col(u, (x) => x.billable.inputTokens)}::int[],
                    ${col(u, (x) => x.billable.cachedTokens)}::int[], ${col(u, (x) => x.billable.outputTokens)}::int[],
                    ${col(u, (x) => x.billable.reasoningTokens)}::int[], ${col(u, (x) => x.overrun.inputTokens)}::int[],
                    ${col(u, (x) => x.overrun.outputTokens)}::int[])
             AS u(id, input_tokens, cached_tokens, output_tokens, reasoning_tokens, overrun_input, overrun_output)
       WHERE e.id = u.id AND e.state = 'pending'
      RETURNING e.id`;
    return new Set(rows.map((row) => row.id));
  }
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
