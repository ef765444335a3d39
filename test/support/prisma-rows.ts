import type { PriceVersion } from '../../src/catalog/catalog.service';
import type { Price } from '../../src/generated/prisma/client';

/** A Prisma `prices` row as the catalog's PriceVersion: what the service made of it before it read prices on pg. */
export function toPriceVersion(p: Price): PriceVersion {
  return {
    id: p.id,
    modelId: p.modelId,
    tenantId: p.tenantId,
    input: p.inputPrice.toFixed(),
    cachedInput: p.cachedInputPrice.toFixed(),
    output: p.outputPrice.toFixed(),
    effectiveFrom: p.effectiveFrom,
  };
}
