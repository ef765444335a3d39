import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import Redis from 'ioredis';
import { serviceUnavailable } from '../common/errors';
import { PgPool } from '../prisma/pg-pool.service';
import { REDIS } from '../redis/redis.module';

const TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS).unref())]);
}

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly pg: PgPool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** Liveness: the process is up. */
  @Get('health')
  @ApiOperation({ summary: 'Liveness: 200 while the process is up' })
  @HttpCode(200)
  health() {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and Redis both answer. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when Postgres and Redis answer, else 503' })
  async ready() {
    const [postgres, redis] = await Promise.all([
      withTimeout(this.pg.$queryRaw`SELECT 1`).then(() => 'up', () => 'down'),
      withTimeout(this.redis.ping()).then(() => 'up', () => 'down'),
    ]);
    if (postgres !== 'up' || redis !== 'up') {
      throw serviceUnavailable(`Not ready: postgres ${postgres}, redis ${redis}.`);
    }
    return { status: 'ready', checks: { postgres, redis } };
  }
}
