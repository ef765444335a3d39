import { notFound } from '../common/errors';
import type { Prisma } from '../generated/prisma/client';
import { isUuid } from '../common/ids';

type TenantReader = { tenant: Pick<Prisma.TenantDelegate, 'findUnique'> };

/** The one "this tenant must exist" check: 404 naming the id (cut to 100 characters), with `param` when given. */
export async function requireTenant<S extends Prisma.TenantSelect>(
  db: TenantReader,
  tenantId: string,
  options: { select?: S; param?: string | null } = {},
): Promise<Prisma.TenantGetPayload<{ select: S }>> {
  const select = (options.select ?? { id: true }) as S;
  const tenant = isUuid(tenantId) ? await db.tenant.findUnique({ where: { id: tenantId }, select }) : null;
  if (!tenant) throw notFound(`No tenant found with id '${tenantId.slice(0, 100)}'.`, options.param ?? null);
  return tenant as Prisma.TenantGetPayload<{ select: S }>;
}
