import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { priceVersions } from '../../src/catalog/prices.repository';
import { isUnavailableError } from '../../src/common/db-errors';
import { loadEnv } from '../../src/config/env';
import { Prisma } from '../../src/generated/prisma/client';
import { newUuid } from '../../src/common/ids';
import type { SqlClient } from '../../src/common/sql/sql-client';
import { PgPool } from '../../src/prisma/pg-pool.service';
import { PrismaService } from '../../src/prisma/prisma.service';
import { Medium, startMedium } from '../support/medium';
import { toPriceVersion } from '../support/prisma-rows';

const MODEL = `medium-pg-${Date.now()}`;

/** The hot path's plain pg pool on the real database: transactions, named statements, and rows as the Prisma client gave them. */
describe('PgPool (medium)', () => {
  let m: Medium;
  let pg: PgPool;

  beforeAll(async () => {
    m = await startMedium();
    pg = m.get(PgPool);
  });

  afterAll(() => m?.close());

  it('reads price versions with the amounts the Prisma client rows give (trailing zeros and all)', async () => {
    const first = await m.price(MODEL, { input_price: '2.50', cached_input_price: '0', output_price: '0.000001000', effective_from: '2020-01-01T00:00:00Z' });
    await m.price(MODEL, { input_price: '10', output_price: '12.125000', effective_from: '2021-01-01T00:00:00Z' });
    const viaPrisma = (await m.get(PrismaService).price.findMany({ where: { modelId: MODEL } })).map(toPriceVersion);
    const viaPg = await pg.transaction((tx) => priceVersions(tx, [first], [MODEL]));
    const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(byId(viaPg)).toEqual(byId(viaPrisma));
    expect(viaPg.find((v) => v.id === first)).toMatchObject({ input: '2.5', cachedInput: '0', output: '0.000001' });
  });

  it('rolls the transaction back when its work throws, and the connection serves the next one', async () => {
    const tenantId = newUuid();
    const insert = (tx: SqlClient) =>
      tx.$executeRaw`INSERT INTO tenants (id, name) VALUES (${tenantId}::uuid, 'pg-pool rollback')`;
    await expect(
      pg.transaction(async (tx) => {
        await insert(tx);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect((await m.db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rowCount).toBe(0);
    await pg.transaction((tx) => insert(tx));
    expect((await m.db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rowCount).toBe(1);
  });

  it('prepares a statement once per connection under its name', async () => {
    const count = await pg.transaction(async (tx) => {
      const marker = `pg-pool-${newUuid()}`;
      await tx.$queryRawUnsafe(`SELECT $1::text AS marker /* ${marker} */`, 'a');
      await tx.$queryRawUnsafe(`SELECT $1::text AS marker /* ${marker} */`, 'b');
      // Unnamed statements are not listed there: one row means the text was prepared once, by name.
      const rows = await tx.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE $1', `%${marker}%`);
      return rows[0].n;
    });
    expect(count).toBe(1);
  });

  describe('a database that accepts connections and never answers', () => {
    let silent: Server;
    let stalled: PgPool;
    const sockets: Socket[] = [];

    beforeAll(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const { port } = silent.address() as AddressInfo;
      stalled = new PgPool(loadEnv({ ...process.env, DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/none` }));
    });

    afterAll(async () => {
      await stalled.onApplicationShutdown().catch(() => undefined);
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    });

    it.each(['rows', '$queryRaw', 'transaction'] as const)('%s fails as "unavailable" once the connect timeout runs out (a 503, not a 500)', async (how) => {
      const started = Date.now();
      const attempt =
        how === 'rows' ? stalled.rows('pg_pool_stalled', Prisma.sql`SELECT 1`) : how === 'transaction' ? stalled.transaction((tx) => tx.$queryRaw`SELECT 1`) : stalled.$queryRaw`SELECT 1`;
      const err = await attempt.then(() => null, (e: unknown) => e);
      expect(err).not.toBeNull();
      expect(isUnavailableError(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
    }, 20_000);
  });
});
