import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

export interface CatalogModel {
  id: string;
  provider: string;
  upstreamModel: string | null;
  createdAt: Date;
}

/** A model with the price version in force when it was looked up (null: not yet priced). */
export type PricedModel = CatalogModel & { price: PriceVersion | null };

export interface PriceVersion {
  id: string;
  modelId: string;
  input: string;
  cachedInput: string;
  output: string;
  effectiveFrom: Date;
}

/** How long a model lookup is served from memory; admin changes in this process invalidate at once. */
const MODEL_CACHE_MS = 2000;

/** Models, their provider routing and their versioned prices. */
@Injectable()
export class CatalogService {
  private readonly models = new Map<string, { model: PricedModel | null; expires: number }>();

  constructor(private readonly prisma: PrismaService) {}

  /** The model and its current price, or null when unknown. Hot path: cached briefly in memory. */
  async findModel(id: string): Promise<PricedModel | null> {
    const hit = this.models.get(id);
    const now = Date.now();
    if (hit && hit.expires > now) return hit.model;
    const row = await this.prisma.model.findUnique({
      where: { id },
      include: { prices: { where: { effectiveFrom: { lte: new Date(now) } }, orderBy: { effectiveFrom: 'desc' }, take: 1 } },
    });
    const model = row && { id: row.id, provider: row.provider, upstreamModel: row.upstreamModel, createdAt: row.createdAt, price: row.prices[0] ? toPriceVersion(row.prices[0]) : null };
    this.models.set(id, { model, expires: now + MODEL_CACHE_MS });
    return model;
  }

  invalidate(id?: string) {
    if (id) this.models.delete(id);
    else this.models.clear();
  }

  /** The price version in force at `at`: the latest effective_from <= at. */
  async priceAt(modelId: string, at: Date): Promise<PriceVersion | null> {
    const price = await this.prisma.price.findFirst({
      where: { modelId, effectiveFrom: { lte: at } },
      orderBy: { effectiveFrom: 'desc' },
    });
    return price && toPriceVersion(price);
  }

  /** Every model with the price in force now (models whose first price is still in the future are left out). */
  async listModels(at = new Date()): Promise<PricedModel[]> {
    const models = await this.prisma.model.findMany({
      orderBy: { id: 'asc' },
      include: { prices: { where: { effectiveFrom: { lte: at } }, orderBy: { effectiveFrom: 'desc' }, take: 1 } },
    });
    return models.map(({ prices, ...m }) => ({ ...m, price: prices[0] ? toPriceVersion(prices[0]) : null }));
  }
}

export function toPriceVersion(p: {
  id: string;
  modelId: string;
  inputPrice: { toFixed(): string };
  cachedInputPrice: { toFixed(): string };
  outputPrice: { toFixed(): string };
  effectiveFrom: Date;
}): PriceVersion {
  return {
    id: p.id,
    modelId: p.modelId,
    input: p.inputPrice.toFixed(),
    cachedInput: p.cachedInputPrice.toFixed(),
    output: p.outputPrice.toFixed(),
    effectiveFrom: p.effectiveFrom,
  };
}
