import { getQueueToken } from '@nestjs/bullmq';
import type { Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import type { Client } from 'pg';
import { Clock } from '../../src/billing/clock';
import { LedgerService } from '../../src/billing/ledger.service';
import { Admission, ReservationsService } from '../../src/billing/reservations.service';
import { SpendAlerts } from '../../src/billing/spend-alerts';
import { newUuid } from '../../src/common/ids';
import { ConfigModule } from '../../src/config/config.module';
import { Env, loadEnv } from '../../src/config/env';
import { InvoicesService } from '../../src/invoices/invoices.service';
import { ChargerService } from '../../src/metering/charger.service';
import { OutboxWriter } from '../../src/metering/outbox-writer';
import { MetricsService } from '../../src/metrics/metrics.service';
import { PrismaModule } from '../../src/prisma/prisma.module';
import { redisConnection } from '../../src/queues/queues.module';
import { QUEUES } from '../../src/queues/queues';
import { ReportsService } from '../../src/reports/reports.service';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher';
import { openDb } from './db';
import { seedPrice, SeedPrice } from './prices';

/** An admission for `t` with fresh ids: what a request's prepare step hands to the reservations. */
export function newAdmission(t: MediumTenant, fields: Pick<Admission, 'amount' | 'model' | 'priceId' | 'maxInputTokens' | 'maxOutputTokens'> & Partial<Admission>): Admission {
  return {
    tenantId: t.tenantId,
    apiKeyId: t.keyId,
    reservationId: newUuid(),
    usageEventId: newUuid(),
    responseId: `resp_${newUuid().replace(/-/g, '')}`,
    requestedAt: new Date(),
    ...fields,
  };
}

export interface MediumTenant {
  tenantId: string;
  keyId: string;
}

export interface Medium {
  module: TestingModule;
  env: Env;
  /** A plain pg client on the run's database, for fixtures and invariant checks. */
  db: Client;
  get<T>(type: Type<T>): T;
  /** A new tenant (and one API key row) with `credits` credited through the real LedgerService. */
  tenant(credits?: string): Promise<MediumTenant>;
  /** A price version written into the database; returns its id. */
  price(model: string, price: SeedPrice): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real money services (ledger, reservations, outbox writer, charger, reports, invoices) in a Nest testing
 * module on the run's database, with no HTTP and no queue workers: a test calls them directly.
 * The invoices and webhooks queues are real BullMQ queues under the run's prefix; nothing consumes them here.
 */
export async function startMedium(extra: Provider[] = []): Promise<Medium> {
  const env = loadEnv({ ...process.env, ROLE: 'api' });
  const invoicesQueue = new Queue(QUEUES.invoices, { connection: redisConnection(env.REDIS_URL), prefix: env.QUEUE_PREFIX });
  const webhooksQueue = new Queue(QUEUES.webhooks, { connection: redisConnection(env.REDIS_URL), prefix: env.QUEUE_PREFIX });
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(env), PrismaModule],
    providers: [
      MetricsService,
      LedgerService,
      ReservationsService,
      Clock,
      SpendAlerts,
      ChargerService,
      OutboxWriter,
      ReportsService,
      InvoicesService,
      { provide: getQueueToken(QUEUES.invoices), useValue: invoicesQueue },
      { provide: getQueueToken(QUEUES.webhooks), useValue: webhooksQueue },
      WebhookDispatcher,
      ...extra,
    ],
  }).compile();
  await module.init();
  const db = await openDb(env.DATABASE_URL);
  const ledger = module.get(LedgerService);
  return {
    module,
    env,
    db,
    get: (type) => module.get(type),
    async tenant(credits = '0') {
      const tenantId = newUuid();
      const keyId = newUuid();
      await db.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenantId, `medium-${tenantId.slice(0, 8)}`]);
      await db.query('INSERT INTO api_keys (id, tenant_id, name, hash, prefix) VALUES ($1, $2, $3, $4, $5)', [keyId, tenantId, 'medium', `hash-${keyId}`, 'sk-tg-medium']);
      if (credits !== '0') await ledger.credit(tenantId, credits, 'opening');
      return { tenantId, keyId };
    },
    async price(model, price) {
      await seedPrice(env.DATABASE_URL, model, price);
      const { rows } = await db.query('SELECT id FROM prices WHERE model_id = $1 AND tenant_id IS NULL AND effective_from = $2::timestamptz', [model, price.effective_from]);
      return rows[0].id as string;
    },
    async close() {
      await db.end();
      await module.close();
      await invoicesQueue.close();
      await webhooksQueue.close();
    },
  };
}
