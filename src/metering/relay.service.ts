import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';
import { MeteringService } from './metering.service';

/** Events uncharged for this long are queued again (Redis lost them, or it was down). */
export const RELAY_AFTER_MS = 5000;
const RELAY_EVERY_MS = 2000;
const RELAY_BATCH = 5000;

/**
 * The outbox relay: Postgres is the truth, Redis the fast lane. Every few seconds, usage events
 * still uncharged after RELAY_AFTER_MS are queued again under their own job id (a job that still
 * exists, waiting or failed, is left as it is).
 */
@Injectable()
export class RelayService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RelayService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly prisma: PrismaService,
    private readonly metering: MeteringService,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.tick(), RELAY_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async tick() {
    if (this.running) return;
    this.running = this.relay().catch((err) => {
      this.logger.warn(`relay pass failed: ${err?.message ?? err}`);
      return 0;
    });
    await this.running;
    this.running = null;
  }

  /** One pass; returns how many events were (re)queued. */
  async relay(olderThanMs = RELAY_AFTER_MS): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    const stale = await this.prisma.usageEvent.findMany({
      where: { chargedAt: null, createdAt: { lt: cutoff } },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take: RELAY_BATCH,
    });
    if (!stale.length) return 0;
    await this.metering.enqueueMany(stale.map((e) => e.id));
    this.logger.log(`relayed ${stale.length} uncharged usage events`);
    return stale.length;
  }
}
