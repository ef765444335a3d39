import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { Env } from '../config/env';

export const REDIS = Symbol('REDIS');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown() {
    // quit() would wait for a connection that may never come; a client that is not ready just stops.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}

/**
 * One shared ioredis connection for caches, pub/sub-free commands and readiness checks. Every
 * command gives up after REDIS_COMMAND_TIMEOUT_MS, so a Redis that stops answering (but keeps the
 * connection open) never holds a request.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [Env],
      useFactory: (env: Env) =>
        new Redis(env.REDIS_URL, {
          lazyConnect: false,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: true,
          commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
          // No auto-pipelining: it holds a command until the pipeline before it is answered, so a
          // stalled Redis makes every later command wait out the one before it (readiness, rate
          // limits); its gain on the bench was within noise.
        }),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
