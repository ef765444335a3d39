import { Get, Query } from '@nestjs/common';
import { AdminController } from '../admin/admin-controller';
import { AuditService } from './audit.service';

/** GET /admin/audit?limit&after&action: the audit log, newest first, cursor-paged. */
@AdminController('admin/audit', 'audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  list(@Query('limit') limit?: string, @Query('after') after?: string, @Query('action') action?: string) {
    return this.audit.list({ limit, after, action });
  }
}
