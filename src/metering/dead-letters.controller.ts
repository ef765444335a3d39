import { ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../admin/admin-controller';
import { InjectQueue } from '@nestjs/bullmq';
import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { invalidValue, notFound, serviceUnavailable } from '../common/errors';
import { Env } from '../config/env';
import { ChargeBatchJob, ChargeJob, QUEUES } from '../queues/queues';
import { TimeoutError, withTimeout } from '../redis/with-timeout';

/**
 * The charge queue's dead letters: jobs that failed every attempt (kept, never dropped). After the
 * cause is fixed (e.g. the missing price is added), replay them.
 */
@AdminController('admin/queues/charges/failed', 'queues')
export class DeadLettersController {
  constructor(
    @InjectQueue(QUEUES.charges) private readonly charges: Queue<ChargeJob | ChargeBatchJob>,
    private readonly env: Env,
  ) {}

  /** The queue lives in Redis: a Redis that does not answer is a prompt 503, not a hung admin call. */
  private redis<T>(call: Promise<T>): Promise<T> {
    return withTimeout(call, this.env.REDIS_COMMAND_TIMEOUT_MS * 4, 'dead letters').catch((err) => {
      throw err instanceof TimeoutError ? serviceUnavailable('The queue (Redis) did not answer in time; try again.') : err;
    });
  }

  @Get()
  @ApiOperation({ summary: 'List charge jobs that failed every attempt' })
  async list(@Query('limit') limit = '100') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw invalidValue('limit', 'limit must be an integer between 1 and 1000');
    const [jobs, total] = await this.redis(Promise.all([this.charges.getFailed(0, n - 1), this.charges.getFailedCount()]));
    return {
      data: jobs.map((j) => ({
        id: j.id,
        usage_event_id: 'usageEventId' in j.data ? j.data.usageEventId : null,
        // A batch job fails for good only when its failed events could not be queued on their own.
        ...('usageEventIds' in j.data ? { usage_event_ids: j.data.usageEventIds } : {}),
        attempts: j.attemptsMade,
        failed_reason: j.failedReason,
        failed_at: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
      })),
      total,
    };
  }

  @Post('retry')
  @ApiOperation({ summary: 'Replay every failed charge job' })
  @HttpCode(200)
  async retryAll() {
    const jobs = await this.redis(this.charges.getFailed(0, -1));
    await this.redis(Promise.all(jobs.map((j) => j.retry('failed'))));
    return { retried: jobs.length };
  }

  @Post(':id/retry')
  @ApiOperation({ summary: 'Replay one failed charge job' })
  @HttpCode(200)
  async retry(@Param('id') id: string) {
    const job = await this.redis(this.charges.getJob(id));
    if (!job || !(await this.redis(job.isFailed()))) throw notFound(`No failed charge job with id '${id}'.`);
    await this.redis(job.retry('failed'));
    return { id, retried: true };
  }
}
