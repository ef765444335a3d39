import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ResponsesModule } from '../responses/responses.module';
import { ChatController } from './chat.controller';

@Module({ imports: [ResponsesModule, AuthModule], controllers: [ChatController] })
export class ChatModule {}
