import { Module } from '@nestjs/common';
import { OutboxWriter } from './outbox-writer';
import { ResponseStore } from './response-store';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({ controllers: [ResponsesController], providers: [ResponsesService, ResponseStore, OutboxWriter], exports: [ResponsesService] })
export class ResponsesModule {}
