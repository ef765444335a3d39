import { Prisma } from '../generated/prisma/client';
import { samePrices } from './models.service';
import { presentApiKey, presentLedgerEntry, presentPriceVersion, presentTenant } from './presenters';

const D = (v: string) => new Prisma.Decimal(v);
const at = new Date('2025-01-02T03:04:05.006Z');

describe('presenters', () => {
  it('formats decimals as plain strings, never with an exponent', () => {
    const limits = { creditLimit: D('100.000000000000000000'), lowBalanceThreshold: null };
    expect(presentTenant({ id: 't', name: 'n', status: 'active', balance: D('0.000000000000000001'), createdAt: at, ...limits })).toEqual({
      id: 't',
      name: 'n',
      status: 'active',
      balance: '0.000000000000000001',
      credit_limit: '100',
      low_balance_threshold: null,
      created_at: '2025-01-02T03:04:05.006Z',
    });
    expect(presentTenant({ id: 't', name: 'n', status: 'active', balance: D('100000000000000000000.000000000000000000'), createdAt: at, ...limits }).balance).toBe(
      '100000000000000000000',
    );
  });

  it('formats a ledger entry', () => {
    const entry = {
      id: 'e',
      tenantId: 't',
      kind: 'charge' as const,
      amount: D('-0.000037500000000000'),
      balanceAfter: D('9.9999625'),
      reference: null,
      usageEventId: 'u',
      responseId: 'resp_1',
      priceId: null,
      inputCost: null,
      cachedInputCost: null,
      outputCost: null,
      reasoningCost: null,
      createdAt: at,
    };
    expect(presentLedgerEntry(entry)).toEqual({
      id: 'e',
      kind: 'charge',
      amount: '-0.0000375',
      balance_after: '9.9999625',
      response_id: 'resp_1',
      reference: null,
      created_at: '2025-01-02T03:04:05.006Z',
    });
  });

  it('never exposes an API key hash', () => {
    const key = {
      id: 'k',
      prefix: 'sk-tg-abcdef',
      name: null,
      createdAt: at,
      revokedAt: null,
      hash: 'secret',
      tenantId: 't',
      rpmLimit: 60,
      tpmLimit: null,
      budgetLimit: D('5.000000000000000000'),
      budgetPeriod: 'week' as const,
      expiresAt: at,
      allowedModels: ['m1'],
    };
    expect(presentApiKey(key)).toEqual({
      id: 'k',
      prefix: 'sk-tg-abcdef',
      name: null,
      created_at: '2025-01-02T03:04:05.006Z',
      revoked_at: null,
      rpm_limit: 60,
      tpm_limit: null,
      budget_limit: '5',
      budget_period: 'week',
      expires_at: '2025-01-02T03:04:05.006Z',
      allowed_models: ['m1'],
    });
  });

  it('formats a price version and compares prices by value', () => {
    const p = { id: 'p', inputPrice: D('0.250000000000000000'), cachedInputPrice: D('0.025'), outputPrice: D('2.000'), effectiveFrom: at, createdAt: at };
    expect(presentPriceVersion(p)).toMatchObject({ input_price: '0.25', cached_input_price: '0.025', output_price: '2' });
    expect(samePrices(p, { input: '0.25', cachedInput: '0.0250', output: '2' })).toBe(true);
    expect(samePrices(p, { input: '0.25', cachedInput: '0.025', output: '2.000000001' })).toBe(false);
  });
});
