import { Injectable } from '@nestjs/common';
import { requireTenant } from '../prisma/require-tenant';
import { generateApiKey } from '../auth/api-key';
import { bumpAuthRevision } from '../auth/auth-revision';
import { KeyCacheService } from '../auth/key-cache.service';
import { isUuid } from '../billing/ledger.service';
import { notFound } from '../common/errors';
import { PrismaService } from '../prisma/prisma.service';
import type { CreateApiKeyDto, UpdateApiKeyDto } from './dto/api-key.dto';
import { presentApiKey } from './presenters';

const keySelect = { id: true, prefix: true, name: true, createdAt: true, revokedAt: true, rpmLimit: true, tpmLimit: true } as const;

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly keyCache: KeyCacheService,
  ) {}

  /** A new key for the tenant. The key itself is returned only here; only its hash is stored. */
  async create(tenantId: string, dto: CreateApiKeyDto) {
    await this.assertTenant(tenantId);
    const { key, hash, prefix } = generateApiKey();
    const row = await this.prisma.apiKey.create({
      data: { tenantId, name: dto.name ?? null, hash, prefix, rpmLimit: dto.rpm_limit ?? null, tpmLimit: dto.tpm_limit ?? null },
      select: keySelect,
    });
    return { ...presentApiKey(row), key };
  }

  /** Changes a key's rate limits; every process picks them up on the key's next request. */
  async update(id: string, dto: UpdateApiKeyDto) {
    if (!isUuid(id)) throw keyNotFound(id);
    const data = {
      ...(dto.rpm_limit !== undefined && { rpmLimit: dto.rpm_limit }),
      ...(dto.tpm_limit !== undefined && { tpmLimit: dto.tpm_limit }),
    };
    const [{ count }] = await this.prisma.$transaction([this.prisma.apiKey.updateMany({ where: { id }, data }), bumpAuthRevision(this.prisma)]);
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

  private async assertTenant(tenantId: string) {
    await requireTenant(this.prisma, tenantId);
  }
}

const keyNotFound = (id: string) => notFound(`No API key found with id '${id}'.`);
