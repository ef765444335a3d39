import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ReservationsService } from '../billing/reservations.service';
import { PeriodicTask } from '../common/periodic-task';
import { Env } from '../config/env';
import { PgPool } from '../prisma/pg-pool.service';
import { MeteringService } from './metering.service';
import { unchargedBefore } from './usage-events.repository';

const RELAY_BATCH = 5000;

/**
 * The outbox relay: Postgres is the truth, Redis the fast lane. Every CHARGE_RELAY_EVERY_MS, usage
 * events still uncharged after CHARGE_RELAY_AFTER_MS (Redis lost them, or was down) are queued
 * again under their own job id (a job that still exists, waiting or failed, is left as it is). Each
 * pass first settles the requests whose process stopped renewing their lease (see InflightService).
 */
@Injectable()
export class RelayService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RelayService.name);
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly pg: PgPool,
    private readonly metering: MeteringService,
    private readonly reservations: ReservationsService,
    private readonly env: Env,
  ) {
    this.periodic = new PeriodicTask(
      env.CHARGE_RELAY_EVERY_MS,
      () => this.pass(),
      (err) => this.logger.warn(`relay pass failed: ${(err as Error)?.message ?? err}`),
    );
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  onModuleDestroy() {
    return this.periodic.stop();
  }

  /** Requests whose process died are settled first, so their charges are queued in the same pass. */
  private async pass() {
    const interrupted = await this.reservations.settleExpiredLeases();
    if (interrupted.length) await this.metering.enqueueMany(interrupted);
    await Promise.all([this.relay(), this.reservations.releaseOrphans()]);
  }

  /** One pass; returns how many events were (re)queued. */
  async relay(olderThanMs = this.env.CHARGE_RELAY_AFTER_MS): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    const stale = await unchargedBefore(this.pg, cutoff, RELAY_BATCH);
    if (!stale.length) return 0;
    await this.metering.enqueueMany(stale);
    this.logger.log(`relayed ${stale.length} uncharged usage events`);
    return stale.length;
  }
}
