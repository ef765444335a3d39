import { Injectable } from '@nestjs/common';
import { PgPool } from '../prisma/pg-pool.service';
import { BoundedCache } from './bounded-cache';
import { selectModel, selectModels } from './models.repository';
import { modelWideVersionAt, modelWideVersions, modelWideVersionsAt, tenantVersions } from './prices.repository';

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
  /** The tenant of a negotiated price; null for the model-wide price. */
  tenantId: string | null;
  input: string;
  cachedInput: string;
  output: string;
  effectiveFrom: Date;
}

/** How long a model lookup is served from memory; admin changes in this process invalidate at once. */
const MODEL_CACHE_MS = 2000;
/** The most (tenant, model) price books kept in memory; the oldest entry goes first. */
const TENANT_PRICE_CACHE_MAX = 10_000;

interface CachedModel {
  model: CatalogModel;
  /** Every model-wide price version of the model, newest effective_from first. */
  versions: PriceVersion[];
}

/** Most model names (known or not) held in the in-process cache; the oldest goes first. */
export const MAX_CACHED_MODELS = 1000;

/** Models, their provider routing and their versioned prices. */
@Injectable()
export class CatalogService {
  private readonly models = new Map<string, { entry: CachedModel | null; expires: number }>();
  /** A tenant's own versions of a model (newest effective_from first), by tenantPriceKey. */
  private readonly tenantPrices = new BoundedCache<string, PriceVersion[]>(TENANT_PRICE_CACHE_MAX, MODEL_CACHE_MS);

  constructor(private readonly pg: PgPool) {}

  /**
   * The model and the price version in force at `at`, or null when unknown: the tenant's own
   * version when it has one in force, else the model-wide one. Hot path: the model, its versions
   * and the tenant's are cached briefly in memory, and the version is picked for `at` each time, so
   * a version taking effect is used from its effective_from on, even from the cache.
   */
  async findModel(id: string, at = new Date(), tenantId?: string): Promise<PricedModel | null> {
    const [entry, own] = await Promise.all([this.modelEntry(id), tenantId ? this.tenantVersions(tenantId, id) : []]);
    if (!entry) return null;
    const inForce = (versions: PriceVersion[]) => versions.find((v) => v.effectiveFrom <= at);
    return { ...entry.model, price: inForce(own) ?? inForce(entry.versions) ?? null };
  }

  private async modelEntry(id: string): Promise<CachedModel | null> {
    const now = Date.now();
    const hit = this.models.get(id);
    if (hit && hit.expires > now) return hit.entry;
    const [model, versions] = await Promise.all([selectModel(this.pg, id), modelWideVersions(this.pg, id)]);
    const entry = model && { model, versions };
    // Bounded: unknown names are cached too (as null), and a client can send any number of them.
    if (this.models.size >= MAX_CACHED_MODELS && !this.models.has(id)) this.models.delete(this.models.keys().next().value!);
    this.models.set(id, { entry, expires: now + MODEL_CACHE_MS });
    return entry;
  }

  private async tenantVersions(tenantId: string, modelId: string): Promise<PriceVersion[]> {
    const key = tenantPriceKey(tenantId, modelId);
    const hit = this.tenantPrices.get(key);
    if (hit) return hit;
    const versions = await tenantVersions(this.pg, tenantId, modelId);
    this.tenantPrices.set(key, versions);
    return versions;
  }

  /** Drops a model (its routing and model-wide versions), one tenant's versions of a model, or everything. */
  invalidate(id?: string, tenantId?: string) {
    if (id && tenantId) this.tenantPrices.delete(tenantPriceKey(tenantId, id));
    else if (id) this.models.delete(id);
    else {
      this.models.clear();
      this.tenantPrices.clear();
    }
  }

  /** How many model names the cache holds now. */
  get cachedModels(): number {
    return this.models.size;
  }

  /** The model-wide price version in force at `at`: the latest effective_from <= at. */
  priceAt(modelId: string, at: Date): Promise<PriceVersion | null> {
    return modelWideVersionAt(this.pg, modelId, at);
  }

  /** Every model with the price in force now (models whose first price is still in the future are left out). */
  async listModels(at = new Date()): Promise<PricedModel[]> {
    const [models, versions] = await Promise.all([selectModels(this.pg), modelWideVersionsAt(this.pg, at)]);
    const inForce = new Map(versions.map((v) => [v.modelId, v]));
    return models.map((m) => ({ ...m, price: inForce.get(m.id) ?? null }));
  }
}

const tenantPriceKey = (tenantId: string, modelId: string) => `${tenantId}\u0000${modelId}`;
