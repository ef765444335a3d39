import { Injectable } from '@nestjs/common';
import { requireTenant } from '../prisma/require-tenant';
import { generateApiKey } from '../auth/api-key';
import { bumpAuthRevision } from '../auth/auth-revision';
import { KeyCacheService } from '../auth/key-cache.service';
import { isUuid } from '../billing/ledger.service';
import { DEFAULT_BUDGET_PERIOD } from '../billing/budget-period';
import { invalidValue, notFound } from '../common/errors';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { CreateApiKeyDto, UpdateApiKeyDto } from './dto/api-key.dto';
import { presentApiKey } from './presenters';

const keySelect = {
  id: true,
  prefix: true,
  name: true,
  createdAt: true,
  revokedAt: true,
  rpmLimit: true,
  tpmLimit: true,
  budgetLimit: true,
  budgetPeriod: true,
  expiresAt: true,
  allowedModels: true,
} as const;

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly keyCache: KeyCacheService,
  ) {}

  /** A new key for the tenant. The key itself is returned only here; only its hash is stored. */
  async create(tenantId: string, dto: CreateApiKeyDto) {
    await this.assertTenant(tenantId);
    await this.assertModelsExist(dto.allowed_models);
    const { key, hash, prefix } = generateApiKey();
    const row = await this.prisma.apiKey.create({
      data: {
        tenantId,
        name: dto.name ?? null,
        hash,
        prefix,
        rpmLimit: dto.rpm_limit ?? null,
        tpmLimit: dto.tpm_limit ?? null,
        budgetLimit: dto.budget_limit ?? null,
        budgetPeriod: dto.budget_period ?? (dto.budget_limit != null ? DEFAULT_BUDGET_PERIOD : null),
        expiresAt: dto.expires_at ? new Date(dto.expires_at) : null,
        allowedModels: dto.allowed_models ? [...new Set(dto.allowed_models)] : Prisma.DbNull,
      },
      select: keySelect,
    });
    return { ...presentApiKey(row), key };
  }

  /** Changes a key's rate limits and spend controls; every process picks them up on the key's next request. */
  async update(id: string, dto: UpdateApiKeyDto) {
    if (!isUuid(id)) throw keyNotFound(id);
    await this.assertModelsExist(dto.allowed_models);
    const data: Prisma.ApiKeyUpdateManyMutationInput = {
      ...(dto.rpm_limit !== undefined && { rpmLimit: dto.rpm_limit }),
      ...(dto.tpm_limit !== undefined && { tpmLimit: dto.tpm_limit }),
      ...(dto.budget_limit !== undefined && { budgetLimit: dto.budget_limit }),
      ...(dto.budget_period !== undefined && { budgetPeriod: dto.budget_period }),
      ...(dto.expires_at !== undefined && { expiresAt: dto.expires_at === null ? null : new Date(dto.expires_at) }),
      ...(dto.allowed_models !== undefined && { allowedModels: dto.allowed_models === null ? Prisma.DbNull : [...new Set(dto.allowed_models)] }),
    };
    const [{ count }] = await this.prisma.$transaction([
      this.prisma.apiKey.updateMany({ where: { id }, data }),
      // A budget given without a period, on a key that has none yet, counts per the default period.
      this.prisma.apiKey.updateMany({ where: { id, budgetLimit: { not: null }, budgetPeriod: null }, data: { budgetPeriod: DEFAULT_BUDGET_PERIOD } }),
      bumpAuthRevision(this.prisma),
    ]);
    if (!count) throw keyNotFound(id);
    this.keyCache.invalidate({ apiKeyId: id });
    return presentApiKey(await this.prisma.apiKey.findUniqueOrThrow({ where: { id }, select: keySelect }));
  }

  async list(tenantId: string) {
    await this.assertTenant(tenantId);
    const keys = await this.prisma.apiKey.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: keySelect });
    return { data: keys.map(presentApiKey) };
  }

  /** Sets revoked_at once; revoking again answers the same. The guard refuses the key from the next request on. */
  async revoke(id: string) {
    if (!isUuid(id)) throw keyNotFound(id);
    const [, , key] = await this.prisma.$transaction([
      this.prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } }),
      bumpAuthRevision(this.prisma),
      this.prisma.apiKey.findUnique({ where: { id }, select: { id: true, revokedAt: true } }),
    ]);
    if (!key) throw keyNotFound(id);
    this.keyCache.invalidate({ apiKeyId: key.id });
    return { id: key.id, revoked: true as const, revoked_at: key.revokedAt!.toISOString() };
  }

  /** 400 naming allowed_models when one of its models is not in the catalog. */
  private async assertModelsExist(models: string[] | null | undefined) {
    if (!models?.length) return;
    const wanted = [...new Set(models)];
    const found = new Set((await this.prisma.model.findMany({ where: { id: { in: wanted } }, select: { id: true } })).map((m) => m.id));
    const missing = wanted.find((m) => !found.has(m));
    if (missing !== undefined) throw invalidValue('allowed_models', `allowed_models names the model '${missing.slice(0, 200)}', which does not exist.`);
  }

  private async assertTenant(tenantId: string) {
    await requireTenant(this.prisma, tenantId);
  }
}

const keyNotFound = (id: string) => notFound(`No API key found with id '${id}'.`);
