import { Module } from '@nestjs/common';
import { ResponsesModule } from '../responses/responses.module';
import { ChatController } from './chat.controller';

@Module({ imports: [ResponsesModule], controllers: [ChatController] })
export class ChatModule {}
