import { ApiError } from '../common/errors';
import { Prisma } from '../generated/prisma/client';
import type { PrismaService } from '../prisma/prisma.service';
import { isNumericOverflow, isUniqueViolation, isUuid, LedgerService } from './ledger.service';

const TENANT = '11111111-1111-4111-8111-111111111111';
const D = (v: string) => new Prisma.Decimal(v);
const p2002 = () => new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: 'test' });

/** A fake Prisma client: $transaction runs the callback with a tx recording its calls. */
function fakePrisma(opts: { balanceAfter?: string | null; createError?: unknown; existing?: Array<{ id: string; tenant: { balance: Prisma.Decimal } } | null> } = {}) {
  const existing = [...(opts.existing ?? [])];
  const tx = {
    $queryRaw: jest.fn(async () => (opts.balanceAfter === null ? [] : [{ balance: opts.balanceAfter ?? '15.000000000000000000' }])),
    ledgerEntry: {
      create: jest.fn(async ({ data }: { data: { balanceAfter: string } }) => {
        if (opts.createError) throw opts.createError;
        return { id: 'entry-1', balanceAfter: D(data.balanceAfter) };
      }),
    },
  };
  const prisma = {
    $transaction: jest.fn(async (fn: (t: typeof tx) => unknown) => fn(tx)),
    ledgerEntry: { findUnique: jest.fn(async () => existing.shift() ?? null), findFirst: jest.fn(), findMany: jest.fn() },
    tenant: { findUnique: jest.fn() },
  };
  return { prisma, tx, service: new LedgerService(prisma as unknown as PrismaService) };
}

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('LedgerService.credit', () => {
  it('updates the balance atomically in SQL and appends the entry with balance_after', async () => {
    const { service, tx } = fakePrisma({ balanceAfter: '15.000000000000000000' });
    await expect(service.credit(TENANT, '5.00')).resolves.toEqual({ balance: '15', entryId: 'entry-1', created: true });
    const [strings, ...values] = tx.$queryRaw.mock.calls[0] as unknown as [TemplateStringsArray, ...unknown[]];
    expect(strings.join('?')).toMatch(/UPDATE tenants SET balance = balance \+ \?::numeric\s+WHERE id = \?::uuid\s+RETURNING balance/);
    expect(values).toEqual(['5.00', TENANT]);
    expect(tx.ledgerEntry.create).toHaveBeenCalledWith(
      expect.objectContaining({ data: { tenantId: TENANT, kind: 'credit', amount: '5.00', balanceAfter: '15.000000000000000000', reference: null } }),
    );
  });

  it('returns the first entry for a reference already used, without a transaction', async () => {
    const { service, prisma } = fakePrisma({ existing: [{ id: 'old', tenant: { balance: D('7.5') } }] });
    await expect(service.credit(TENANT, '5', 'ref')).resolves.toEqual({ balance: '7.5', entryId: 'old', created: false });
    expect(prisma.$transaction).not.toHaveBeenCalled();
  });

  it('a reference lost to a concurrent request (P2002) answers with the winner', async () => {
    const { service } = fakePrisma({ createError: p2002(), existing: [null, { id: 'winner', tenant: { balance: D('20') } }] });
    await expect(service.credit(TENANT, '5', 'ref')).resolves.toEqual({ balance: '20', entryId: 'winner', created: false });
  });

  it('rethrows P2002 when there is no reference to fall back on', async () => {
    const { service } = fakePrisma({ createError: p2002() });
    await expect(service.credit(TENANT, '5')).rejects.toMatchObject({ code: 'P2002' });
  });

  it('an unknown or malformed tenant is 404', async () => {
    expect((await apiError(fakePrisma({ balanceAfter: null }).service.credit(TENANT, '1'))).status).toBe(404);
    const { service, prisma } = fakePrisma();
    expect((await apiError(service.credit('nope', '1'))).status).toBe(404);
    expect(prisma.$transaction).not.toHaveBeenCalled();
  });

  it.each(['0', '-1', '0.000', '1e3', 'abc', ''])('refuses a credit of %j with param amount', async (amount) => {
    const { service, prisma } = fakePrisma();
    const err = await apiError(service.credit(TENANT, amount));
    expect(err.status).toBe(400);
    expect(err.param).toBe('amount');
    expect(prisma.$transaction).not.toHaveBeenCalled();
  });

  it('adjustments may be negative but not zero', async () => {
    const { service, tx } = fakePrisma({ balanceAfter: '-1' });
    await expect(service.credit(TENANT, '-1', null, 'adjustment')).resolves.toMatchObject({ balance: '-1' });
    expect(tx.ledgerEntry.create).toHaveBeenCalledWith(expect.objectContaining({ data: expect.objectContaining({ kind: 'adjustment', amount: '-1' }) }));
    expect((await apiError(service.credit(TENANT, '0', null, 'adjustment'))).param).toBe('amount');
  });
});

describe('LedgerService.listLedger', () => {
  it('validates limit and the cursor', async () => {
    const { service, prisma } = fakePrisma();
    prisma.tenant.findUnique.mockResolvedValue({ id: TENANT });
    expect((await apiError(service.listLedger(TENANT, { limit: 0 }))).param).toBe('limit');
    expect((await apiError(service.listLedger(TENANT, { limit: 1001 }))).param).toBe('limit');
    expect((await apiError(service.listLedger(TENANT, { after: 'nope' }))).param).toBe('after');
    prisma.ledgerEntry.findFirst.mockResolvedValue(null);
    expect((await apiError(service.listLedger(TENANT, { after: TENANT }))).param).toBe('after');
  });

  it('fetches limit + 1 rows in (created_at, id) order to know has_more', async () => {
    const { service, prisma } = fakePrisma();
    prisma.tenant.findUnique.mockResolvedValue({ id: TENANT });
    prisma.ledgerEntry.findFirst.mockResolvedValue({ id: 'c', createdAt: new Date(5) });
    prisma.ledgerEntry.findMany.mockResolvedValue([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await expect(service.listLedger(TENANT, { limit: 2, after: TENANT })).resolves.toEqual({ data: [{ id: 'a' }, { id: 'b' }], hasMore: true });
    expect(prisma.ledgerEntry.findMany).toHaveBeenCalledWith({
      where: { AND: [{ tenantId: TENANT }, { OR: [{ createdAt: { gt: new Date(5) } }, { createdAt: new Date(5), id: { gt: 'c' } }] }] },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: 3,
    });
  });

  it('an unknown tenant is 404', async () => {
    const { service, prisma } = fakePrisma();
    prisma.tenant.findUnique.mockResolvedValue(null);
    expect((await apiError(service.listLedger(TENANT))).status).toBe(404);
  });
});

describe('helpers', () => {
  it('isUuid', () => {
    expect(isUuid(TENANT)).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(undefined)).toBe(false);
  });

  it('isUniqueViolation recognises P2002 only', () => {
    expect(isUniqueViolation(p2002())).toBe(true);
    expect(isUniqueViolation(new Prisma.PrismaClientKnownRequestError('x', { code: 'P2025', clientVersion: 'test' }))).toBe(false);
    expect(isUniqueViolation(new Error('P2002'))).toBe(false);
  });

  it('isNumericOverflow finds 22003 however it is wrapped', () => {
    expect(isNumericOverflow({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '22003' } } } })).toBe(true);
    expect(isNumericOverflow({ code: '22003' })).toBe(true); // straight from pg
    expect(isNumericOverflow(new Error('numeric field overflow'))).toBe(false); // messages are not read
  });
});
