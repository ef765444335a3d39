import { Injectable, Logger } from '@nestjs/common';
import { isUuid } from '../billing/ledger.service';
import { invalidValue } from '../common/errors';
import { Prisma } from '../generated/prisma/client';
import type { AuditEntry } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { AuditRecord } from './audit-actions';

export interface AuditWrite extends AuditRecord {
  actor: string;
  status: number;
  method: string;
  path: string;
  requestId: string | null;
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

/** The audit log: appended by the AuditInterceptor, read by GET /admin/audit (newest first). */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(private readonly prisma: PrismaService) {}

  /** Never throws: a failed audit write is logged (the action itself already happened). */
  async record(entry: AuditWrite): Promise<void> {
    try {
      await this.prisma.auditEntry.create({
        data: {
          actor: entry.actor,
          action: entry.action,
          targetType: entry.targetType,
          targetId: entry.targetId,
          summary: entry.summary as Prisma.InputJsonValue,
          status: entry.status,
          method: entry.method,
          path: entry.path.slice(0, 500),
          requestId: entry.requestId,
        },
      });
    } catch (err) {
      this.logger.error(`audit entry for ${entry.action} not written: ${(err as Error)?.message ?? err}`);
    }
  }

  async list(query: { limit?: unknown; after?: unknown; action?: unknown }) {
    const limit = parseLimit(query.limit);
    const and: Prisma.AuditEntryWhereInput[] = [];
    if (query.action !== undefined && query.action !== '') {
      if (typeof query.action !== 'string' || query.action.length > 200) throw invalidValue('action', `'action' must be an action name such as "tenant.create".`);
      and.push({ action: query.action });
    }
    if (query.after !== undefined && query.after !== '') {
      const cursor = isUuid(query.after) ? await this.prisma.auditEntry.findUnique({ where: { id: query.after }, select: { id: true, createdAt: true } }) : null;
      if (!cursor) throw invalidValue('after', `No audit entry '${String(query.after).slice(0, 100)}'.`);
      and.push({ OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] });
    }
    const rows = await this.prisma.auditEntry.findMany({
      where: { AND: and },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    });
    return { object: 'list' as const, data: rows.slice(0, limit).map(presentAuditEntry), has_more: rows.length > limit };
  }
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_AUDIT_LIMIT;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_AUDIT_LIMIT) throw invalidValue('limit', `'limit' must be an integer between 1 and ${MAX_AUDIT_LIMIT}.`);
  return n;
}

export const presentAuditEntry = (e: AuditEntry) => ({
  id: e.id,
  actor: e.actor,
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  summary: e.summary,
  status: e.status,
  method: e.method,
  path: e.path,
  request_id: e.requestId,
  created_at: e.createdAt.toISOString(),
});
