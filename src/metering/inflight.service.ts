import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ReservationsService } from '../billing/reservations.service';
import { PeriodicTask } from '../common/periodic-task';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PgPool } from '../prisma/pg-pool.service';
import type { Usage } from '../providers/provider';
import { MeteringService } from './metering.service';
import { OutboxWriter } from './outbox-writer';
import { boundUsage, UsageBounds } from './usage-bounds';
import { checkpointPending } from './usage-events.repository';
import { UsageSpool } from './usage-spool';

interface LiveRequest {
  bounds: UsageBounds;
  /** The usage so far (a stream: what it has produced; otherwise the prompt). */
  usage: () => Usage | Promise<Usage>;
}

/**
 * The requests this process is running, kept alive in the database. Every STREAM_CHECKPOINT_MS,
 * in one statement for all of them, their leases are renewed and their progress (the tokens
 * produced so far) is recorded on their pending usage events. If the process dies, the relay finds
 * the leases run out and charges each request from its last checkpoint: a crash loses at most one
 * checkpoint interval of output. The same tick retries withdrawals that failed and replays the
 * local usage spool once the database answers again.
 */
@Injectable()
export class InflightService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InflightService.name);
  private readonly live = new Map<string, LiveRequest>();
  /** Failed withdrawals to retry: reservation id -> usage event id. */
  private readonly withdrawals = new Map<string, string>();
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly pg: PgPool,
    private readonly reservations: ReservationsService,
    private readonly outbox: OutboxWriter,
    private readonly spool: UsageSpool,
    private readonly metering: MeteringService,
    private readonly metrics: MetricsService,
    private readonly env: Env,
  ) {
    this.periodic = new PeriodicTask(
      env.STREAM_CHECKPOINT_MS,
      () => this.tick(),
      (err) => this.logger.warn(`checkpoint failed: ${(err as Error)?.message ?? err}`),
    );
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onModuleDestroy() {
    await this.periodic.stop();
  }

  track(usageEventId: string, bounds: UsageBounds, usage: LiveRequest['usage']) {
    this.live.set(usageEventId, { bounds, usage });
  }

  untrack(usageEventId: string) {
    this.live.delete(usageEventId);
  }

  /** Gives an admission back; a failure is counted and retried on the next ticks (never swallowed). */
  withdraw(usageEventId: string, reservationId: string): Promise<void> {
    this.untrack(usageEventId);
    return this.reservations.withdraw(reservationId).catch((err) => {
      this.releaseFailed('first', usageEventId, reservationId, err);
      this.withdrawals.set(reservationId, usageEventId);
    });
  }

  private releaseFailed(attempt: 'first' | 'retry', usageEventId: string, reservationId: string, err: unknown) {
    this.metrics.reservationReleaseFailures.inc({ attempt });
    this.logger.warn({ usageEventId, reservationId, attempt }, `release of reservation ${reservationId} (usage event ${usageEventId}) failed (${(err as Error)?.message ?? err}); retrying`);
  }

  /** One pass (also called by tests). */
  async tick(): Promise<void> {
    if (this.spool.mayHaveRecords) {
      await this.spool.replay(async (records) => {
        await this.outbox.finishUsage(records);
        this.metering.enqueueMany(records.map((r) => r.usageEventId)).catch(() => undefined); // else the relay queues them
      });
    }
    for (const [reservationId, usageEventId] of [...this.withdrawals]) {
      try {
        await this.reservations.withdraw(reservationId);
        this.withdrawals.delete(reservationId);
      } catch (err) {
        this.releaseFailed('retry', usageEventId, reservationId, err);
        throw err;
      }
    }
    await this.checkpoint();
  }

  private async checkpoint() {
    if (!this.live.size) return;
    const live = [...this.live];
    const checkpoints = await Promise.all(
      live.map(async ([usageEventId, request]) => ({ usageEventId, usage: boundUsage(await request.usage(), request.bounds).billable })),
    );
    await checkpointPending(this.pg, checkpoints, this.env.REQUEST_LEASE_MS);
  }
}
