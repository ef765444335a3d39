import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Header } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES } from '../queues/queues';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** GET /metrics in the Prometheus text format. */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @InjectQueue(QUEUES.charges) private readonly charges: Queue,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics' })
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    const counts = await this.charges.getJobCounts(...STATES).catch(() => null);
    if (counts) for (const state of STATES) this.metrics.queueDepth.set({ queue: QUEUES.charges, state }, counts[state] ?? 0);
    return this.metrics.registry.metrics();
  }
}
