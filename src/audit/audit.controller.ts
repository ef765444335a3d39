import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../auth/auth.guards';
import { AuditService } from './audit.service';

/** GET /admin/audit?limit&after&action: the audit log, newest first, cursor-paged. */
@Controller('admin/audit')
@UseGuards(AdminGuard)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  list(@Query('limit') limit?: string, @Query('after') after?: string, @Query('action') action?: string) {
    return this.audit.list({ limit, after, action });
  }
}
