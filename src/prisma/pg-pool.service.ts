import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { Env } from '../config/env';
import { PgTransaction } from '../common/sql/pg-transaction';
import type { Prisma } from '../generated/prisma/client';

/** Most connections of the hot-path pool (the Prisma client keeps its own for everything else). */
const HOT_PATH_CONNECTIONS = 10;

/**
 * A Postgres that stops answering must not hold a request or a charge (and the tenant rows it
 * locked) forever: connecting, a statement, and a transaction left idle are all bounded. The
 * server ends such a statement or transaction cleanly, so the connection stays usable or is dropped.
 */
const LIMITS = { connectionTimeoutMillis: 5_000, statement_timeout: 15_000, idle_in_transaction_session_timeout: 15_000 };

/**
 * Plain `pg` for the per-request statements: no Prisma client runtime per request, and each
 * statement prepared once per connection under its name, so Postgres reuses its plan. A statement's
 * text must be the same on every call for a name (its parameters carry everything that varies).
 */
@Injectable()
export class PgPool implements OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(env: Env) {
    this.pool = new Pool({ connectionString: env.DATABASE_URL, max: HOT_PATH_CONNECTIONS, ...LIMITS });
    // An idle connection the server closed: the pool drops it and the next query opens another.
    this.pool.on('error', () => undefined);
  }

  async rows<T>(name: string, sql: Prisma.Sql): Promise<T[]> {
    return (await this.pool.query({ name, text: sql.text, values: sql.values })).rows as T[];
  }

  /** Runs `work` in a transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: PgTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(new PgTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      // A connection that could not roll back is closed, not handed to the next request.
      client.release(broken);
    }
  }

  async onApplicationShutdown() {
    await this.pool.end();
  }
}
