import { Module } from '@nestjs/common';
import { AdminGuard, ApiKeyGuard } from './auth.guards';
import { KeyCacheService } from './key-cache.service';

@Module({ providers: [ApiKeyGuard, AdminGuard, KeyCacheService], exports: [ApiKeyGuard, AdminGuard, KeyCacheService] })
export class AuthModule {}
