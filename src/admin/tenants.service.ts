import { bumpAuthRevision } from '../auth/auth-revision';
import { requireTenant } from '../prisma/require-tenant';
import { KeyCacheService } from '../auth/key-cache.service';
import { Injectable } from '@nestjs/common';
import { invalidValue } from '../common/errors';
import { LedgerService } from '../billing/ledger.service';
import { compareAmounts } from '../billing/money';
import type { TenantStatus } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { CreateTenantDto, CreditDto, LedgerQueryDto, UpdateTenantDto } from './dto/tenant.dto';
import { presentLedgerEntry, presentTenant } from './presenters';

/** Reference of the ledger entry holding a new tenant's opening credits. */
export const OPENING_REFERENCE = 'opening';

const tenantSelect = { id: true, name: true, status: true, balance: true, creditLimit: true, lowBalanceThreshold: true, createdAt: true } as const;

@Injectable()
export class TenantsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly ledger: LedgerService,
    private readonly keyCache: KeyCacheService,
  ) {}

  /** The tenant and, when `credits` is more than zero, its opening credit entry: one transaction. */
  async create(dto: CreateTenantDto) {
    const tenant = await this.prisma.$transaction(async (tx) => {
      const created = await tx.tenant.create({ data: { name: dto.name }, select: { id: true } });
      // Zero opening credits write no entry: the balance (0) already equals the empty ledger.
      if (dto.credits !== undefined && dto.credits !== null && compareAmounts(dto.credits, '0') > 0) {
        await this.ledger.creditWithin(tx, created.id, dto.credits, OPENING_REFERENCE, 'credit');
      }
      return tx.tenant.findUniqueOrThrow({ where: { id: created.id }, select: tenantSelect });
    });
    return presentTenant(tenant);
  }

  async list() {
    const tenants = await this.prisma.tenant.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: tenantSelect });
    return { data: tenants.map(presentTenant) };
  }

  async get(id: string) {
    return presentTenant(await this.find(id));
  }

  /** Status, credit limit and low-balance threshold; a status change reaches every process's key cache. */
  async update(id: string, dto: UpdateTenantDto) {
    if (dto.status === undefined && dto.credit_limit === undefined && dto.low_balance_threshold === undefined) {
      throw invalidValue('status', `Send at least one of 'status', 'credit_limit' or 'low_balance_threshold'.`);
    }
    if (dto.credit_limit !== undefined || dto.low_balance_threshold !== undefined) {
      await this.find(id);
      await this.prisma.tenant.update({
        where: { id },
        data: {
          ...(dto.credit_limit !== undefined && { creditLimit: dto.credit_limit }),
          ...(dto.low_balance_threshold !== undefined && { lowBalanceThreshold: dto.low_balance_threshold }),
        },
      });
    }
    return dto.status !== undefined ? this.setStatus(id, dto.status) : this.get(id);
  }

  async setStatus(id: string, status: TenantStatus) {
    await this.find(id);
    const [tenant] = await this.prisma.$transaction([
      this.prisma.tenant.update({ where: { id }, data: { status }, select: tenantSelect }),
      bumpAuthRevision(this.prisma),
    ]);
    this.keyCache.invalidate({ tenantId: id });
    return presentTenant(tenant);
  }

  async credit(id: string, dto: CreditDto) {
    const result = await this.ledger.credit(id, dto.amount, dto.reference ?? null, 'credit');
    return { balance: result.balance, entry_id: result.entryId };
  }

  async ledgerPage(id: string, query: LedgerQueryDto) {
    const from = query.from !== undefined ? new Date(query.from) : undefined;
    const to = query.to !== undefined ? new Date(query.to) : undefined;
    if (from && to && from.getTime() > to.getTime()) throw invalidValue('to', `'to' must not be before 'from'.`);
    const page = await this.ledger.listLedger(id, {
      from,
      to,
      limit: query.limit !== undefined ? Number(query.limit) : undefined,
      after: query.after,
    });
    return { data: page.data.map(presentLedgerEntry), has_more: page.hasMore };
  }

  private async find(id: string) {
    const tenant = await requireTenant(this.prisma, id, { select: tenantSelect });
    return tenant;
  }
}
