import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Header } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Env } from '../config/env';
import { PrismaService } from '../prisma/prisma.service';
import { QUEUES } from '../queues/queues';
import { withTimeout } from '../redis/with-timeout';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** GET /metrics in the Prometheus text format. */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @InjectQueue(QUEUES.charges) private readonly charges: Queue,
    private readonly env: Env,
    private readonly prisma: PrismaService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics' })
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    // Redis away: the queue gauges keep their last values, the rest is served at once.
    const counts = await withTimeout(this.charges.getJobCounts(...STATES), this.env.REDIS_COMMAND_TIMEOUT_MS, 'queue depth').catch(() => null);
    if (counts) for (const state of STATES) this.metrics.queueDepth.set({ queue: QUEUES.charges, state }, counts[state] ?? 0);
    this.metrics.prismaStatements.set(this.prisma.use.statements);
    return this.metrics.registry.metrics();
  }
}
