import { Module } from '@nestjs/common';
import { ResponseStore } from './response-store';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({ controllers: [ResponsesController], providers: [ResponsesService, ResponseStore], exports: [ResponsesService] })
export class ResponsesModule {}
