import { authRevision, keyByHash } from '../../src/auth/auth.repository';
import { BalanceService } from '../../src/billing/balance.service';
import { periodStart } from '../../src/billing/budget-period';
import { formatAmount } from '../../src/billing/money';
import { CatalogService } from '../../src/catalog/catalog.service';
import { modelWideVersionAt } from '../../src/catalog/prices.repository';
import { newUuid } from '../../src/common/ids';
import { PgPool } from '../../src/prisma/pg-pool.service';
import { PrismaService } from '../../src/prisma/prisma.service';
import { ResponseStore } from '../../src/responses/response-store';
import { Medium, startMedium } from '../support/medium';
import { toPriceVersion } from '../support/prisma-rows';

const MODEL = `medium-reads-${Date.now()}`;
const LATER = `${MODEL}-later`;

/**
 * What tenants' traffic reads on plain pg, next to what the Prisma client gave for the same rows
 * (amounts with trailing zeros, bigints, dates, JSON, nulls): the services see the same values.
 */
describe('steady-state reads on pg (medium)', () => {
  let m: Medium;
  let pg: PgPool;
  let prisma: PrismaService;

  beforeAll(async () => {
    m = await startMedium([CatalogService, BalanceService, ResponseStore]);
    pg = m.get(PgPool);
    prisma = m.get(PrismaService);
    await m.price(MODEL, { input_price: '2.50', cached_input_price: '0', output_price: '0.000001000', effective_from: '2020-01-01T00:00:00Z' });
    await m.price(MODEL, { input_price: '10', output_price: '12.125000', effective_from: '2021-06-01T00:00:00Z' });
    await m.price(MODEL, { input_price: '99', output_price: '99', effective_from: '2099-01-01T00:00:00Z' });
    await m.price(LATER, { input_price: '1', output_price: '1', effective_from: '2099-01-01T00:00:00Z' });
  });

  afterAll(() => m?.close());

  it('a model with its model-wide versions, a tenant book, and the model list', async () => {
    const { tenantId } = await m.tenant();
    await m.db.query(
      `INSERT INTO prices (id, model_id, tenant_id, input_price, cached_input_price, output_price, effective_from)
       VALUES (gen_random_uuid(), $1, $2, 0.100, 0.010, 0.2000, '2022-01-01')`,
      [MODEL, tenantId],
    );
    const catalog = m.get(CatalogService);
    catalog.invalidate();
    const at = new Date('2030-01-01T00:00:00Z');
    const found = await catalog.findModel(MODEL, at, tenantId);
    const model = await prisma.model.findUniqueOrThrow({ where: { id: MODEL } });
    const own = await prisma.price.findFirstOrThrow({ where: { modelId: MODEL, tenantId } });
    expect(found).toEqual({ id: model.id, provider: model.provider, upstreamModel: model.upstreamModel, createdAt: model.createdAt, price: toPriceVersion(own) });
    expect(found?.price).toMatchObject({ input: '0.1', cachedInput: '0.01', output: '0.2' });

    const wide = (at: Date) => prisma.price.findFirst({ where: { modelId: MODEL, tenantId: null, effectiveFrom: { lte: at } }, orderBy: { effectiveFrom: 'desc' } });
    for (const when of [new Date('2020-06-01T00:00:00Z'), at, new Date('2019-01-01T00:00:00Z')]) {
      const expected = await wide(when);
      expect(await modelWideVersionAt(pg, MODEL, when)).toEqual(expected && toPriceVersion(expected));
      expect((await catalog.findModel(MODEL, when))?.price ?? null).toEqual(expected && toPriceVersion(expected));
    }

    const listed = await catalog.listModels(at);
    const models = await prisma.model.findMany({
      orderBy: { id: 'asc' },
      include: { prices: { where: { tenantId: null, effectiveFrom: { lte: at } }, orderBy: { effectiveFrom: 'desc' }, take: 1 } },
    });
    expect(listed).toEqual(models.map(({ prices, ...rest }) => ({ ...rest, price: prices[0] ? toPriceVersion(prices[0]) : null })));
    expect(listed.find((x) => x.id === LATER)?.price).toBeNull();
    expect(await catalog.findModel(`${MODEL}-unknown`)).toBeNull();
  });

  it('a key by its hash, with its spend controls and its tenant status; the auth revision', async () => {
    const { keyId } = await m.tenant();
    const keyRow = async () => {
      const viaPg = await keyByHash(pg, `hash-${keyId}`);
      const viaPrisma = await prisma.apiKey.findUniqueOrThrow({ where: { hash: `hash-${keyId}` }, include: { tenant: { select: { status: true } } } });
      return { viaPg, viaPrisma };
    };
    let { viaPg, viaPrisma } = await keyRow();
    expect(viaPg).toEqual({
      id: viaPrisma.id,
      tenantId: viaPrisma.tenantId,
      revokedAt: null,
      rpmLimit: null,
      tpmLimit: null,
      budgetLimit: null,
      budgetPeriod: null,
      expiresAt: null,
      allowedModels: null,
      tenantStatus: 'active',
    });
    await m.db.query(
      `UPDATE api_keys SET revoked_at = now(), rpm_limit = 60, tpm_limit = 1000, budget_limit = 12.50, budget_period = 'week',
              expires_at = '2099-01-01T00:00:00.123Z', allowed_models = $2 WHERE id = $1`,
      [keyId, JSON.stringify(['a', 'b'])],
    );
    ({ viaPg, viaPrisma } = await keyRow());
    expect(viaPg).toEqual({
      id: viaPrisma.id,
      tenantId: viaPrisma.tenantId,
      revokedAt: viaPrisma.revokedAt,
      rpmLimit: 60,
      tpmLimit: 1000,
      budgetLimit: expect.any(String),
      budgetPeriod: 'week',
      expiresAt: viaPrisma.expiresAt,
      allowedModels: viaPrisma.allowedModels,
      tenantStatus: 'active',
    });
    expect(formatAmount(viaPg!.budgetLimit!)).toBe(viaPrisma.budgetLimit!.toFixed());
    expect(formatAmount(viaPg!.budgetLimit!)).toBe('12.5');
    expect(await keyByHash(pg, 'no-such-hash')).toBeNull();

    await m.db.query(`INSERT INTO auth_revisions (id, revision) VALUES (1, 9007199254740993) ON CONFLICT (id) DO UPDATE SET revision = 9007199254740993`);
    expect(await authRevision(pg)).toBe((await prisma.authRevision.findUniqueOrThrow({ where: { id: 1 } })).revision);
    expect(await authRevision(pg)).toBe(9007199254740993n);
  });

  it("a tenant's balance and a key's period spend, as GET /v1/balance shows them", async () => {
    const { tenantId, keyId } = await m.tenant('12.300');
    await m.db.query(`UPDATE tenants SET reserved = 0.25, credit_limit = 5.000 WHERE id = $1`, [tenantId]);
    const now = new Date();
    const balance = m.get(BalanceService);
    const auth = { tenantId, apiKeyId: keyId, budget: { limit: '10.50', period: 'day' as const } };
    expect(await balance.view(auth)).toMatchObject({ balance: '12.3', reserved: '0.25', credit_limit: '5', available: '17.05', budget: { spent: '0', reserved: '0' } });
    await m.db.query(`INSERT INTO key_spend (api_key_id, period_start, spent, reserved) VALUES ($1, $2, 1.500, 0.000001)`, [keyId, periodStart('day', now)]);
    const spend = await prisma.keySpend.findUniqueOrThrow({ where: { apiKeyId_periodStart: { apiKeyId: keyId, periodStart: periodStart('day', now) } } });
    expect((await balance.view(auth)).budget).toMatchObject({ limit: '10.5', spent: spend.spent.toFixed(), reserved: spend.reserved.toFixed(), remaining: '8.999999' });
  });

  it('a stored response, and its deletion (content gone, context cache kept)', async () => {
    const { tenantId, keyId } = await m.tenant();
    const id = `resp_${newUuid().replace(/-/g, '')}`;
    await m.db.query(
      `INSERT INTO responses (id, tenant_id, api_key_id, model, status, instructions, input, output, usage, settings, context_cache, completed_at)
       VALUES ($1, $2, $3, $4, 'completed', 'Be brief.', '[{"id":"msg_1","type":"message"}]', '[{"id":"msg_2","type":"message"}]',
               '{"input_tokens":1}', '{"store":true,"temperature":0.5}', '{"tokens":3}', now())`,
      [id, tenantId, keyId, MODEL],
    );
    const store = m.get(ResponseStore);
    const row = await prisma.response.findFirstOrThrow({ where: { id } });
    expect(await store.find(tenantId, id)).toEqual({
      record: {
        id,
        model: MODEL,
        status: 'completed',
        instructions: 'Be brief.',
        output: row.output,
        usage: row.usage,
        settings: row.settings,
        previousResponseId: null,
        createdAt: row.createdAt,
        completedAt: row.completedAt,
      },
      input: row.input,
    });
    expect(await store.find(newUuid(), id)).toBeNull();
    expect(await store.delete(tenantId, id)).toBe(true);
    expect(await store.delete(tenantId, id)).toBe(false);
    expect(await store.find(tenantId, id)).toBeNull();
    const gone = await prisma.response.findFirstOrThrow({ where: { id } });
    expect(gone).toMatchObject({ input: [], output: [], instructions: null, contextCache: { tokens: 3 } });
    expect(gone.deletedAt).toBeInstanceOf(Date);
  });
});
