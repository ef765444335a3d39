import { Global, Module } from '@nestjs/common';
import { QueuesModule } from '../queues/queues.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({ imports: [QueuesModule], controllers: [MetricsController], providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
