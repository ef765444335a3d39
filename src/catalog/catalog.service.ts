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

interface CachedModel {
  model: CatalogModel;
  /** Every price version of the model, newest effective_from first. */
  versions: PriceVersion[];
}

/** Most model names (known or not) held in the in-process cache; the oldest goes first. */
export const MAX_CACHED_MODELS = 1000;

/** Models, their provider routing and their versioned prices. */
@Injectable()
export class CatalogService {
  private readonly models = new Map<string, { entry: CachedModel | null; expires: number }>();

  constructor(private readonly prisma: PrismaService) {}

  /**
   * The model and the price version in force at `at`, or null when unknown. Hot path: the model and
   * all its versions are cached briefly in memory, and the version is picked for `at` each time, so
   * a version taking effect is used from its effective_from on, even from the cache.
   */
  async findModel(id: string, at = new Date()): Promise<PricedModel | null> {
    const now = Date.now();
    let hit = this.models.get(id);
    if (!hit || hit.expires <= now) {
      const row = await this.prisma.model.findUnique({ where: { id }, include: { prices: { orderBy: { effectiveFrom: 'desc' } } } });
      const entry = row && {
        model: { id: row.id, provider: row.provider, upstreamModel: row.upstreamModel, createdAt: row.createdAt },
        versions: row.prices.map(toPriceVersion),
      };
      hit = { entry, expires: now + MODEL_CACHE_MS };
      // Bounded: unknown names are cached too (as null), and a client can send any number of them.
      if (this.models.size >= MAX_CACHED_MODELS && !this.models.has(id)) this.models.delete(this.models.keys().next().value!);
      this.models.set(id, hit);
    }
    if (!hit.entry) return null;
    return { ...hit.entry.model, price: hit.entry.versions.find((v) => v.effectiveFrom <= at) ?? null };
  }

  /** How many model names the cache holds now. */
  get cachedModels(): number {
    return this.models.size;
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
