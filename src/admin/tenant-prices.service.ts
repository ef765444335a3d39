import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '../billing/ledger.service';
import { CatalogService } from '../catalog/catalog.service';
import { notFound } from '../common/errors';
import type { Price } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import { requireTenant } from '../prisma/require-tenant';
import type { PutTenantPriceDto } from './dto/tenant-price.dto';
import { isModelId } from './model-id';
import { addPriceVersion, parseEffectiveFrom, resolvePrices } from './models.service';

export const presentTenantPrice = (p: Price) => ({
  id: p.id,
  tenant_id: p.tenantId,
  model: p.modelId,
  input_price: p.inputPrice.toFixed(),
  cached_input_price: p.cachedInputPrice.toFixed(),
  output_price: p.outputPrice.toFixed(),
  effective_from: p.effectiveFrom.toISOString(),
});

/** Tenants' price books: negotiated, effective-dated price versions that come before the model's own. */
@Injectable()
export class TenantPricesService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly catalog: CatalogService,
  ) {}

  /** Adds a version to the tenant's price book for `model` (an idempotent repeat returns the stored one). */
  async put(tenantId: string, model: string, dto: PutTenantPriceDto) {
    const prices = resolvePrices(dto);
    const requestedAt = Date.now();
    const effectiveFrom = parseEffectiveFrom(dto.effective_from, requestedAt);
    await requireTenant(this.prisma, tenantId);
    const known = isModelId(model) && (await this.prisma.model.findUnique({ where: { id: model }, select: { id: true } }));
    if (!known) throw notFound(`No model found with id '${model.slice(0, 200)}'.`, 'model');
    for (let attempt = 0; ; attempt++) {
      try {
        const price = await this.prisma.$transaction((tx) => addPriceVersion(tx, { modelId: model, tenantId }, prices, effectiveFrom, requestedAt));
        this.catalog.invalidate(model, tenantId);
        return presentTenantPrice(price);
      } catch (err) {
        // A concurrent PUT of the same version won: the retry finds it.
        if (attempt < 2 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  /** The tenant's price versions, by model, newest effective_from first. */
  async list(tenantId: string) {
    await requireTenant(this.prisma, tenantId);
    const rows = await this.prisma.price.findMany({ where: { tenantId }, orderBy: [{ modelId: 'asc' }, { effectiveFrom: 'desc' }] });
    return { data: rows.map(presentTenantPrice) };
  }
}
