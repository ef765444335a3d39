import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Env } from '../config/env';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The one Prisma client. Connects lazily on the first query; closed last on shutdown, after the
 * queue workers have drained (they close in beforeApplicationShutdown).
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(env: Env) {
    super({ adapter: new PrismaPg({ connectionString: env.DATABASE_URL, max: 20 }) });
  }

  async onApplicationShutdown() {
    await this.$disconnect();
  }
}
