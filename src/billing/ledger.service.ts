import { Injectable } from '@nestjs/common';
import { invalidValue, notFound } from '../common/errors';
import type { LedgerEntry, LedgerKind } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import { sqlStateOf } from '../common/db-errors';
import type { UnsafeSqlClient } from '../common/sql/sql-client';
import { PrismaService } from '../prisma/prisma.service';
import { requireTenant } from '../prisma/require-tenant';
import { isUuid } from '../common/ids';
import { assignBalancesAfter, PlannedCharge } from './charge-plan';
import { addToBalance, insertCharges, takeCharges } from './ledger.repository';
import { addAmounts, compareAmounts, isAmount, negate } from './money';
import { LowBalanceFact, SpendAlerts } from './spend-alerts';

export type LedgerTx = Prisma.TransactionClient;

/** Kinds a credit-like movement may be written as (charges have their own path, with a usage event). */
export type CreditKind = Extract<LedgerKind, 'credit' | 'adjustment'>;

export interface CreditResult {
  /** The tenant's balance after the entry (or, for a repeated reference, the current balance). */
  balance: string;
  entryId: string;
  /** False when `reference` had been used before and nothing was written. */
  created: boolean;
}

export interface LedgerQuery {
  /** Inclusive lower bound on created_at. */
  from?: Date;
  /** Exclusive upper bound on created_at. */
  to?: Date;
  /** 1..1000, default 100. */
  limit?: number;
  /** Id of the last entry of the previous page. */
  after?: string;
}

export interface LedgerPage {
  data: LedgerEntry[];
  hasMore: boolean;
}

export const DEFAULT_LEDGER_LIMIT = 100;
export const MAX_LEDGER_LIMIT = 1000;

export { isUuid } from '../common/ids';

/** Prisma's "unique constraint failed" (P2002). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/** Postgres "numeric field overflow" (22003). */
export const isNumericOverflow = (err: unknown): boolean => sqlStateOf(err) === '22003';

/**
 * The tenants' money. A tenant's balance always equals the sum of its ledger entries: every
 * movement updates the balance atomically (no read-modify-write) and appends its entry in the
 * same transaction.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly alerts: SpendAlerts,
  ) {}

  /**
   * Adds `amount` (a positive decimal string; an adjustment may be negative) to the tenant's
   * balance and appends the entry. A `reference` already used for this tenant is a no-op that
   * returns the first entry and the current balance, also when requests race.
   */
  async credit(tenantId: string, amount: string, reference?: string | null, kind: CreditKind = 'credit'): Promise<CreditResult> {
    assertCreditAmount(amount, kind);
    if (!isUuid(tenantId)) throw tenantNotFound(tenantId);
    const ref = reference ?? null;
    if (ref !== null) {
      const existing = await this.existing(tenantId, ref);
      if (existing) return existing;
    }
    try {
      return await this.prisma.$transaction((tx) => this.creditWithin(tx, tenantId, amount, ref, kind));
    } catch (err) {
      if (ref !== null && isUniqueViolation(err)) {
        const existing = await this.existing(tenantId, ref);
        if (existing) return existing;
      }
      throw err;
    }
  }

  /**
   * The credit inside a caller's transaction (e.g. a new tenant's opening credits). A repeated
   * reference surfaces as Prisma's P2002 and aborts that transaction.
   */
  async creditWithin(tx: LedgerTx, tenantId: string, amount: string, reference: string | null, kind: CreditKind = 'credit'): Promise<CreditResult> {
    assertCreditAmount(amount, kind);
    let balanceAfter: string | null;
    try {
      balanceAfter = await addToBalance(tx, tenantId, amount);
    } catch (err) {
      if (isNumericOverflow(err)) throw invalidValue('amount', 'This amount would take the balance beyond the largest amount the ledger can hold.');
      throw err;
    }
    if (balanceAfter === null) throw tenantNotFound(tenantId);
    const entry = await tx.ledgerEntry.create({
      data: { tenantId, kind, amount, balanceAfter, reference },
      select: { id: true, balanceAfter: true },
    });
    return { balance: entry.balanceAfter.toFixed(), entryId: entry.id, created: true };
  }

  /**
   * Writes planned charges inside the charge's transaction: each tenant's balance goes down by its
   * total (and its reserved by what `released` gave back) in one update, in tenant order so two
   * workers never wait on each other in a cycle, and the ledger entries, with the balance after
   * each, go in with one statement. The tenant rows are taken last, so they stay locked only for
   * this and the commit.
   */
  async appendCharges(tx: UnsafeSqlClient, planned: PlannedCharge[], totals: Map<string, string>, released: Map<string, string>): Promise<void> {
    const byTenant = new Map<string, PlannedCharge[]>();
    for (const p of planned) {
      const group = byTenant.get(p.event.tenantId);
      if (group) group.push(p);
      else byTenant.set(p.event.tenantId, [p]);
    }
    const lowBalance: LowBalanceFact[] = [];
    for (const tenantId of [...byTenant.keys()].sort()) {
      const total = totals.get(tenantId)!;
      const { balance, reserved, creditLimit, threshold } = await takeCharges(tx, tenantId, total, released.get(tenantId) ?? '0');
      assignBalancesAfter(byTenant.get(tenantId)!, balance);
      // Only charges move the settled available balance (holds of requests in flight left out):
      // an admission lowers what GET /v1/balance calls available, and its charge gives part back.
      const settled = addAmounts(balance, creditLimit);
      if (threshold !== null && crossedBelow(addAmounts(settled, total), settled, threshold)) {
        const charges = byTenant.get(tenantId)!;
        lowBalance.push({
          tenantId,
          balance: addAmounts(balance),
          available: addAmounts(balance, negate(reserved), creditLimit),
          threshold: addAmounts(threshold),
          crossingId: charges[charges.length - 1].event.id,
        });
      }
    }
    if (lowBalance.length) await this.alerts.lowBalance(tx, lowBalance);
    await insertCharges(tx, planned);
  }

  /** The tenant's current balance as a decimal string; 404 when the tenant is unknown. */
  async balance(tenantId: string): Promise<string> {
    const tenant = await requireTenant(this.prisma, tenantId, { select: { balance: true } });
    return tenant.balance.toFixed();
  }

  /** One page of the tenant's ledger, oldest first (created_at, id), after the `after` entry. */
  async listLedger(tenantId: string, query: LedgerQuery = {}): Promise<LedgerPage> {
    const limit = query.limit ?? DEFAULT_LEDGER_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LEDGER_LIMIT) {
      throw invalidValue('limit', `'limit' must be an integer between 1 and ${MAX_LEDGER_LIMIT}.`);
    }
    await requireTenant(this.prisma, tenantId);

    const and: Prisma.LedgerEntryWhereInput[] = [{ tenantId }];
    if (query.from || query.to) and.push({ createdAt: { ...(query.from && { gte: query.from }), ...(query.to && { lt: query.to }) } });
    if (query.after !== undefined) {
      const cursor = isUuid(query.after)
        ? await this.prisma.ledgerEntry.findFirst({ where: { id: query.after, tenantId }, select: { id: true, createdAt: true } })
        : null;
      if (!cursor) throw invalidValue('after', `No ledger entry '${query.after}' for this tenant.`);
      and.push({ OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }] });
    }
    const rows = await this.prisma.ledgerEntry.findMany({
      where: { AND: and },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit + 1,
    });
    return { data: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  private async existing(tenantId: string, reference: string): Promise<CreditResult | null> {
    const entry = await this.prisma.ledgerEntry.findUnique({
      where: { tenantId_reference: { tenantId, reference } },
      select: { id: true, tenant: { select: { balance: true } } },
    });
    return entry && { balance: entry.tenant.balance.toFixed(), entryId: entry.id, created: false };
  }
}

/** The amount was at or above the threshold before and is below it after. */
const crossedBelow = (before: string, after: string, threshold: string) => compareAmounts(before, threshold) >= 0 && compareAmounts(after, threshold) < 0;

function assertCreditAmount(amount: string, kind: CreditKind) {
  if (!isAmount(amount)) throw invalidValue('amount', `'amount' must be a decimal string such as "5.00".`);
  const sign = compareAmounts(amount, '0');
  if (kind === 'credit' ? sign <= 0 : sign === 0) {
    throw invalidValue('amount', kind === 'credit' ? `'amount' must be greater than 0.` : `'amount' must not be 0.`);
  }
}

const tenantNotFound = (id: string) => notFound(`No tenant found with id '${id.slice(0, 100)}'.`);
