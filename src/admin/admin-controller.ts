import { applyDecorators, Controller, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { AdminGuard } from '../auth/auth.guards';

/**
 * The one way to declare an admin controller: the route prefix, the admin token guard, the audit
 * of every change, and the OpenAPI tag, together, so no admin route can miss auth or audit.
 */
export function AdminController(path: string, tag: string) {
  return applyDecorators(Controller(path), UseGuards(AdminGuard), UseInterceptors(AuditInterceptor), ApiTags(`admin: ${tag}`), ApiBearerAuth());
}
