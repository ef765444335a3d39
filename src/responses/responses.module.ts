import { Module } from '@nestjs/common';
import { ResponseStore } from './response-store';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({ controllers: [ResponsesController], providers: [ResponsesService, ResponseStore] })
export class ResponsesModule {}
