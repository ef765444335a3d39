import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Env } from '../config/env';
import { PrismaClient } from '../generated/prisma/client';
import { countedAdapter, PrismaUse } from './counted-adapter';

/**
 * The one Prisma client, for admin, reports, invoice builds and the audit log. Connects lazily on
 * the first query (which also loads its WebAssembly query compiler, tens of MB): a process that
 * only serves tenants' traffic and runs the workers never does (`use` shows it). Closed last on
 * shutdown, after the queue workers have drained (they close in beforeApplicationShutdown).
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  readonly use: PrismaUse;

  constructor(env: Env) {
    const use: PrismaUse = { connected: false, statements: 0 };
    super({ adapter: countedAdapter(new PrismaPg({ connectionString: env.DATABASE_URL, max: 20 }), use) });
    this.use = use;
  }

  async onApplicationShutdown() {
    await this.$disconnect();
  }
}
