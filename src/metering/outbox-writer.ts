import { Injectable, Logger } from '@nestjs/common';
import { isPermanentDbError } from '../common/db-errors';
import { TickBatch } from '../common/tick-batch';
import { MetricsService } from '../metrics/metrics.service';
import { PgPool } from '../prisma/pg-pool.service';
import type { FinalUsage } from './usage-event';
import { storeAndFinish } from './usage-events.repository';

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
    private readonly pg: PgPool,
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

  /** Both tables in one statement: atomic, and a single round trip. */
  private insert(batch: Pending[]): Promise<Set<string>> {
    return storeAndFinish(
      this.pg,
      batch.flatMap((p) => (p.response ? [p.response] : [])),
      batch.map((p) => p.usage),
    );
  }
}
