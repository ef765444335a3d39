import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { PrismaService } from '../prisma/prisma.service';
import { addAmounts, negate } from './money';

/** GET /v1/balance: the tenant's balance, what running requests hold, and what is left to spend. */
@ApiTags('balance')
@ApiBearerAuth()
@Controller('v1/balance')
@UseGuards(ApiKeyGuard)
export class BalanceController {
  constructor(private readonly prisma: PrismaService) {}

  @Get()
  @ApiOperation({ summary: 'The tenant balance, what running requests hold, and what is available' })
  async get(@CurrentTenant() auth: TenantAuth) {
    const t = await this.prisma.tenant.findUniqueOrThrow({ where: { id: auth.tenantId }, select: { balance: true, reserved: true } });
    const balance = t.balance.toFixed();
    const reserved = t.reserved.toFixed();
    return { object: 'balance', balance, reserved, available: addAmounts(balance, negate(reserved)), currency: 'USD' };
  }
}
