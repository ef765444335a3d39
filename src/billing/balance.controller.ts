import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { BalanceService } from './balance.service';

/** GET /v1/balance: the tenant's balance, what running requests hold, what is left to spend, and the key's budget. */
@ApiTags('balance')
@ApiBearerAuth()
@Controller('v1/balance')
@UseGuards(ApiKeyGuard)
export class BalanceController {
  constructor(private readonly balances: BalanceService) {}

  @Get()
  @ApiOperation({
    summary: 'The tenant balance, what running requests hold, what is available (credit limit included), and the calling key’s budget in its current period',
  })
  get(@CurrentTenant() auth: TenantAuth) {
    return this.balances.view(auth);
  }
}
