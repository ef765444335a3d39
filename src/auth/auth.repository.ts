import type { BudgetPeriod } from '../billing/budget-period';
import type { SqlClient } from '../common/sql/sql-client';

/** An API key as the guard needs it, with its tenant's status. */
export interface KeyRow {
  id: string;
  tenantId: string;
  revokedAt: Date | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** Numeric text, as stored (trailing zeros and all). */
  budgetLimit: string | null;
  budgetPeriod: BudgetPeriod | null;
  expiresAt: Date | null;
  allowedModels: unknown;
  tenantStatus: string;
}

/** The key with this SHA-256 (hex), or null. */
export async function keyByHash(db: SqlClient, hash: string): Promise<KeyRow | null> {
  const [row] = await db.$queryRaw<KeyRow[]>`
    SELECT k.id, k.tenant_id AS "tenantId", k.revoked_at AS "revokedAt", k.rpm_limit AS "rpmLimit", k.tpm_limit AS "tpmLimit",
           k.budget_limit::text AS "budgetLimit", k.budget_period::text AS "budgetPeriod", k.expires_at AS "expiresAt",
           k.allowed_models AS "allowedModels", t.status::text AS "tenantStatus"
      FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
     WHERE k.hash = ${hash}`;
  return row ?? null;
}

/** The auth revision (0 before the first bump). */
export async function authRevision(db: SqlClient): Promise<bigint> {
  const [row] = await db.$queryRaw<Array<{ revision: string }>>`SELECT revision::text AS revision FROM auth_revisions WHERE id = 1`;
  return row ? BigInt(row.revision) : 0n;
}
