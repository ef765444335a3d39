import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CatalogService } from './catalog.service';
import { ModelsController } from './models.controller';

@Module({ imports: [AuthModule], controllers: [ModelsController], providers: [CatalogService], exports: [CatalogService] })
export class CatalogModule {}
