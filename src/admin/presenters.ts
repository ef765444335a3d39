import type { ApiKey, LedgerEntry, Price, Tenant } from '../generated/prisma/client';

/** Prisma rows -> the admin API's snake_case JSON. Decimals via toFixed() (never an exponent). */

export const presentTenant = (t: Pick<Tenant, 'id' | 'name' | 'status' | 'balance' | 'createdAt' | 'creditLimit' | 'lowBalanceThreshold'>) => ({
  id: t.id,
  name: t.name,
  status: t.status,
  balance: t.balance.toFixed(),
  credit_limit: t.creditLimit.toFixed(),
  low_balance_threshold: t.lowBalanceThreshold ? t.lowBalanceThreshold.toFixed() : null,
  created_at: t.createdAt.toISOString(),
});

export const presentLedgerEntry = (e: LedgerEntry) => ({
  id: e.id,
  kind: e.kind,
  amount: e.amount.toFixed(),
  balance_after: e.balanceAfter.toFixed(),
  response_id: e.responseId,
  reference: e.reference,
  created_at: e.createdAt.toISOString(),
});

export const presentApiKey = (
  k: Pick<ApiKey, 'id' | 'prefix' | 'name' | 'createdAt' | 'revokedAt' | 'rpmLimit' | 'tpmLimit' | 'budgetLimit' | 'budgetPeriod' | 'expiresAt' | 'allowedModels'>,
) => ({
  id: k.id,
  prefix: k.prefix,
  name: k.name,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
  rpm_limit: k.rpmLimit,
  tpm_limit: k.tpmLimit,
  budget_limit: k.budgetLimit ? k.budgetLimit.toFixed() : null,
  budget_period: k.budgetPeriod,
  expires_at: k.expiresAt ? k.expiresAt.toISOString() : null,
  allowed_models: Array.isArray(k.allowedModels) ? (k.allowedModels as string[]) : null,
});

export const presentPriceVersion = (p: Pick<Price, 'id' | 'inputPrice' | 'cachedInputPrice' | 'outputPrice' | 'effectiveFrom' | 'createdAt'>) => ({
  id: p.id,
  input_price: p.inputPrice.toFixed(),
  cached_input_price: p.cachedInputPrice.toFixed(),
  output_price: p.outputPrice.toFixed(),
  effective_from: p.effectiveFrom.toISOString(),
  created_at: p.createdAt.toISOString(),
});
