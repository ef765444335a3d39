import { Module } from '@nestjs/common';
import { AdminGuard, ApiKeyGuard } from './auth.guards';
import { KeyCacheService } from './key-cache.service';
import { KeyLookups } from './key-lookups';

@Module({ providers: [ApiKeyGuard, AdminGuard, KeyCacheService, KeyLookups], exports: [ApiKeyGuard, AdminGuard, KeyCacheService, KeyLookups] })
export class AuthModule {}
