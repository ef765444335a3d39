import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError, ErrorCode, serviceUnavailable } from '../common/errors';
import { isPermanentDbError } from '../common/db-errors';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { OutboxWriter, ResponseRow } from './outbox-writer';
import type { FinalUsage } from './usage-event';
import { UsageSpool } from './usage-spool';

/** Thrown when an answer's usage is safe (spooled) but the answer itself could not be stored. */
export class UsageSpooledError extends DomainError {
  constructor() {
    super(ErrorCode.ServiceUnavailable, 'The service is temporarily unavailable: the answer could not be stored. Its usage was recorded and will be billed.');
  }
}

/**
 * Records how a request ended, whatever the database is doing: written with the group commit,
 * retried with back-off for SAVE_RETRY_MS while the database is away, and then kept in the local
 * spool until it is back. Only when even the spool fails is the usage left to the lease (the relay
 * then charges the request from its last checkpoint).
 */
@Injectable()
export class UsageRecorder {
  private readonly logger = new Logger(UsageRecorder.name);

  constructor(
    private readonly outbox: OutboxWriter,
    private readonly spool: UsageSpool,
    private readonly metrics: MetricsService,
    private readonly env: Env,
  ) {}

  /**
   * Resolves once the usage is committed (true: finished by this call; false: the event had already
   * been finished, e.g. interrupted by the relay). Throws UsageSpooledError (service unavailable) when the database
   * stayed away: the usage is then in the spool, and will be charged once the database is back.
   */
  async finish(response: ResponseRow | null, usage: FinalUsage): Promise<boolean> {
    this.recordOverrun(usage);
    const deadline = Date.now() + this.env.SAVE_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.outbox.write(response, usage);
      } catch (err) {
        if (isPermanentDbError(err)) throw err;
        const wait = Math.min(100 * 2 ** attempt, 1000);
        if (Date.now() + wait > deadline) return this.toSpool(usage, err);
        this.metrics.usageSaveFailures.inc({ kind: 'retried' });
        await sleep(wait);
      }
    }
  }

  private async toSpool(usage: FinalUsage, cause: unknown): Promise<never> {
    try {
      await this.spool.append([usage]);
      this.metrics.usageSpooled.inc();
      this.logger.warn(`usage of event ${usage.usageEventId} spooled: the database is unreachable (${(cause as Error)?.message})`);
    } catch (err) {
      this.metrics.usageSaveFailures.inc({ kind: 'spool' });
      this.logger.error(`usage of event ${usage.usageEventId} could not be spooled (${(err as Error).message}); it will be charged from its last checkpoint`);
      throw serviceUnavailable('The service is temporarily unavailable (database unreachable).');
    }
    throw new UsageSpooledError();
  }

  private recordOverrun(usage: FinalUsage) {
    if (usage.overrun.inputTokens) this.metrics.usageOverrunTokens.inc({ kind: 'input' }, usage.overrun.inputTokens);
    if (usage.overrun.outputTokens) this.metrics.usageOverrunTokens.inc({ kind: 'output' }, usage.overrun.outputTokens);
    if (usage.overrun.inputTokens || usage.overrun.outputTokens) {
      this.logger.warn(
        `usage event ${usage.usageEventId}: the provider reported ${usage.overrun.inputTokens} input and ${usage.overrun.outputTokens} output tokens beyond the reserved bounds (not charged)`,
      );
    }
  }
}
