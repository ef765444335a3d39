import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient, type QueryConfig, type QueryResult } from 'pg';
import { isUnavailableError, sqlStateOf } from '../common/db-errors';
import { Env } from '../config/env';
import { rawQuery } from '../common/sql/pg-statements';
import { PgTransaction } from '../common/sql/pg-transaction';
import type { SqlClient } from '../common/sql/sql-client';
import type { Prisma } from '../generated/prisma/client';

/** Most connections of this pool (the Prisma client keeps its own for admin, reports and invoices). */
const MAX_CONNECTIONS = 10;

/**
 * A Postgres that stops answering must not hold a request or a charge (and the tenant rows it
 * locked) forever: connecting, a statement, and a transaction left idle are all bounded. The
 * server ends such a statement or transaction cleanly, so the connection stays usable or is dropped.
 */
const LIMITS = { connectionTimeoutMillis: 5_000, statement_timeout: 15_000, idle_in_transaction_session_timeout: 15_000 };

/**
 * Plain `pg` for every statement of tenants' traffic and of the workers and periodic tasks, so such
 * a process never starts the Prisma client (its query compiler is WebAssembly, tens of MB once
 * loaded). Each statement is prepared once per connection under its name, so Postgres reuses its
 * plan: a statement's text must be the same on every call for a name (its parameters carry
 * everything that varies). `$queryRaw` / `$executeRaw` answer as the Prisma client's do, so the
 * repository functions take this pool as they take a transaction.
 */
/** No connection to Postgres could be had in time; `code` is SQLSTATE 08001 (unable to connect). */
export class PgConnectError extends Error {
  readonly code = '08001';

  constructor(cause: Error) {
    super(`could not get a Postgres connection: ${cause.message}`, { cause });
  }
}

@Injectable()
export class PgPool implements SqlClient, OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(env: Env) {
    this.pool = new Pool({ connectionString: env.DATABASE_URL, max: MAX_CONNECTIONS, ...LIMITS });
    // An idle connection the server closed: the pool drops it and the next query opens another.
    this.pool.on('error', () => undefined);
  }

  async rows<T>(name: string, sql: Prisma.Sql): Promise<T[]> {
    return (await this.query({ name, text: sql.text, values: sql.values })).rows as T[];
  }

  async $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T> {
    return (await this.query(rawQuery(query, values))).rows as T;
  }

  async $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number> {
    return (await this.query(rawQuery(query, values))).rowCount ?? 0;
  }

  /** Runs `work` in a transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: PgTransaction) => Promise<T>): Promise<T> {
    const client = await this.connect();
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

  /**
   * One statement on a pooled connection. A statement Postgres refused (a SQLSTATE such as a
   * refused admission) leaves the connection usable, so it goes back to the pool; any other
   * failure closes it.
   */
  private async query(config: QueryConfig): Promise<QueryResult> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      return await client.query(config);
    } catch (err) {
      if (!sqlStateOf(err) || isUnavailableError(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * The pool's own failures carry no code (its wait for a free connection timing out, the
   * server not answering the handshake): they mean Postgres cannot be reached now, so they
   * become a connection exception (SQLSTATE 08001) that the error filter answers with a 503.
   */
  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw sqlStateOf(err) ? err : new PgConnectError(err as Error);
    }
  }

  async onApplicationShutdown() {
    await this.pool.end();
  }
}
