import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '../billing/ledger.service';
import { compareAmounts, defaultCachedInputPrice } from '../billing/money';
import { CatalogService } from '../catalog/catalog.service';
import { DomainError, ErrorCode, invalidValue, notFound } from '../common/errors';
import type { Price, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import { ProvidersService } from '../providers/providers.service';
import type { PutModelDto } from './dto/model.dto';
import { assertKnownProvider } from './known-providers';
import { isModelId } from './model-id';
import { presentPriceVersion } from './presenters';

/** Clock skew allowed between an admin client and the server for an effective_from meant as "now". */
const PAST_TOLERANCE_MS = 5000;

/** A version may not take effect in the past: requests admitted since then were priced already. */
export const pastEffectiveFrom = () =>
  invalidValue('effective_from', `'effective_from' may not be in the past: a price version takes effect now (leave it out) or later.`);

export const priceConflict = (effectiveFrom: Date) =>
  new DomainError(
    ErrorCode.Conflict,
    `A price version effective from ${effectiveFrom.toISOString()} already exists with different prices; price versions are immutable, use another effective_from.`,
    { param: 'effective_from' },
  );

/** Resolved prices of one version, as exact decimal strings. */
export interface ResolvedPrices {
  input: string;
  cachedInput: string;
  output: string;
}

export const samePrices = (p: Pick<Price, 'inputPrice' | 'cachedInputPrice' | 'outputPrice'>, r: ResolvedPrices) =>
  compareAmounts(p.inputPrice.toFixed(), r.input) === 0 &&
  compareAmounts(p.cachedInputPrice.toFixed(), r.cachedInput) === 0 &&
  compareAmounts(p.outputPrice.toFixed(), r.output) === 0;

/** Timestamps Postgres and JSON both handle without surprises. */
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The prices of a PUT body; the cached-input price defaults to 10% of the input price. */
export const resolvePrices = (dto: { input_price: string; cached_input_price?: string; output_price: string }): ResolvedPrices => ({
  input: dto.input_price,
  cachedInput: dto.cached_input_price ?? defaultCachedInputPrice(dto.input_price),
  output: dto.output_price,
});

/** A PUT's effective_from (default: now); its not-in-the-past check is addPriceVersion's. */
export function parseEffectiveFrom(value: string | null | undefined, requestedAt: number): Date {
  const effectiveFrom = value !== undefined && value !== null ? new Date(value) : new Date(requestedAt);
  if (Number.isNaN(effectiveFrom.getTime()) || effectiveFrom.getTime() < MIN_TIME || effectiveFrom.getTime() > MAX_TIME) {
    throw invalidValue('effective_from', `'effective_from' must be an ISO 8601 time between 1970 and 9999.`);
  }
  return effectiveFrom;
}

type PriceTx = Pick<Prisma.TransactionClient, 'price'>;

/**
 * Adds a price version (model-wide when tenantId is null). The same effective_from with the same
 * prices is an idempotent repeat (the stored version is returned); with other prices, 409. A new
 * version may not take effect in the past.
 */
export async function addPriceVersion(
  tx: PriceTx,
  owner: { modelId: string; tenantId: string | null },
  prices: ResolvedPrices,
  effectiveFrom: Date,
  requestedAt: number,
): Promise<Price> {
  const existing = await tx.price.findFirst({ where: { ...owner, effectiveFrom } });
  if (existing && !samePrices(existing, prices)) throw priceConflict(effectiveFrom);
  if (existing) return existing;
  if (effectiveFrom.getTime() < requestedAt - PAST_TOLERANCE_MS) throw pastEffectiveFrom();
  return tx.price.create({
    data: { ...owner, inputPrice: prices.input, cachedInputPrice: prices.cachedInput, outputPrice: prices.output, effectiveFrom },
  });
}

@Injectable()
export class ModelsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly catalog: CatalogService,
    private readonly providers: ProvidersService,
  ) {}

  /**
   * Upserts the model's routing and adds a price version. The same effective_from with the same
   * prices is an idempotent repeat (the stored version is returned); with other prices, 409.
   */
  async put(model: string, dto: PutModelDto) {
    assertModelId(model);
    assertKnownProvider(this.providers, dto.provider);
    const prices = resolvePrices(dto);
    const requestedAt = Date.now();
    const effectiveFrom = parseEffectiveFrom(dto.effective_from, requestedAt);
    const routing = { provider: dto.provider, upstreamModel: dto.upstream_model ?? null };

    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.prisma.$transaction(async (tx) => {
          const row = await tx.model.upsert({ where: { id: model }, create: { id: model, ...routing }, update: routing });
          const price = await addPriceVersion(tx, { modelId: model, tenantId: null }, prices, effectiveFrom, requestedAt);
          return { row, price };
        });
        this.catalog.invalidate(model);
        const { row, price } = result;
        return {
          model: row.id,
          provider: row.provider,
          upstream_model: row.upstreamModel,
          price: {
            input_price: price.inputPrice.toFixed(),
            cached_input_price: price.cachedInputPrice.toFixed(),
            output_price: price.outputPrice.toFixed(),
          },
          effective_from: price.effectiveFrom.toISOString(),
        };
      } catch (err) {
        // A concurrent PUT created the model or the same version first: the retry sees it.
        if (attempt < 2 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  /** Every model with the price in force now (null when none is yet). */
  async list() {
    const models = await this.catalog.listModels();
    return {
      data: models.map((m) => ({
        model: m.id,
        provider: m.provider,
        upstream_model: m.upstreamModel,
        price: m.price && {
          input_price: m.price.input,
          cached_input_price: m.price.cachedInput,
          output_price: m.price.output,
          effective_from: m.price.effectiveFrom.toISOString(),
        },
      })),
    };
  }

  /** All price versions of the model, newest effective_from first. */
  async prices(model: string) {
    const row = isModelId(model)
      ? await this.prisma.model.findUnique({
          where: { id: model },
          include: { prices: { where: { tenantId: null }, orderBy: [{ effectiveFrom: 'desc' }, { createdAt: 'desc' }] } },
        })
      : null;
    if (!row) throw notFound(`No model found with id '${model}'.`);
    return { model: row.id, data: row.prices.map(presentPriceVersion) };
  }
}

function assertModelId(model: string) {
  if (!isModelId(model)) {
    throw invalidValue('model', `Model ids are 1 to 128 characters of letters, digits and . _ : / -, starting with a letter or digit (got '${model.slice(0, 200)}').`);
  }
}
