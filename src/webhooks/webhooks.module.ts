import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { QueuesModule } from '../queues/queues.module';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookProcessor } from './webhook.processor';
import { WebhookSweeper } from './webhook-sweeper';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** The dispatcher other modules use to queue the deliveries their emitWebhook calls wrote. */
@Module({
  imports: [QueuesModule],
  providers: [WebhookDispatcher],
  exports: [WebhookDispatcher],
})
export class WebhookDispatchModule {}

/** Webhooks: the admin API everywhere; the delivery worker and the sweeper where ROLE runs workers. */
@Module({})
export class WebhooksModule {
  static register(runWorkers: boolean): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [WebhookDispatchModule, QueuesModule, AuthModule, AuditModule],
      controllers: [WebhooksController],
      providers: [WebhooksService, ...(runWorkers ? [WebhookDeliverer, WebhookProcessor, WebhookSweeper] : [])],
    };
  }
}
