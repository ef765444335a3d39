import { Global, Module } from '@nestjs/common';
import { AdminGuard, ApiKeyGuard } from './auth.guards';

@Global()
@Module({ providers: [ApiKeyGuard, AdminGuard], exports: [ApiKeyGuard, AdminGuard] })
export class AuthModule {}
