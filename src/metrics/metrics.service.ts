import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Every Prometheus metric of the process, in one registry (served at GET /metrics). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'tollgate_http_requests_total',
    help: 'HTTP requests answered, by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'tollgate_http_request_duration_seconds',
    help: 'Time to answer (to the first byte of a stream), by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly providerDuration = new Histogram({
    name: 'tollgate_provider_duration_seconds',
    help: 'Time the model provider took for a whole generation, by provider and outcome.',
    labelNames: ['provider', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly charges = new Counter({
    name: 'tollgate_charges_total',
    help: 'Usage events charged into the ledger.',
    registers: [this.registry],
  });

  readonly chargeLag = new Histogram({
    name: 'tollgate_charge_lag_seconds',
    help: 'From the usage event being written to its charge being committed.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly reservationRefusals = new Counter({
    name: 'tollgate_reservation_refusals_total',
    help: 'Requests refused with insufficient_quota.',
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: 'tollgate_webhook_attempts_total',
    help: 'Webhook delivery attempts, by event type and outcome (delivered, retry, failed).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'tollgate_rate_limited_total',
    help: 'Requests refused with rate_limit_exceeded, by limit kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly usageOverrunTokens = new Counter({
    name: 'tollgate_usage_overrun_tokens_total',
    help: 'Tokens a provider reported beyond the reserved bounds (not charged; reconcile with the provider), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly usageSpooled = new Counter({
    name: 'tollgate_usage_spooled_total',
    help: 'Finished requests whose usage could not reach the database in time and went to the local spool.',
    registers: [this.registry],
  });

  readonly usageSaveFailures = new Counter({
    name: 'tollgate_usage_save_failures_total',
    help: 'Failures on the way to recording usage, by what failed (retried, content dropped, spool write).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly reservationReleaseFailures = new Counter({
    name: 'tollgate_reservation_release_failures_total',
    help: 'Holds of unanswered requests that could not be given back (retried until they are), by attempt.',
    labelNames: ['attempt'] as const,
    registers: [this.registry],
  });

  readonly rateLimitUnchecked = new Counter({
    name: 'tollgate_rate_limit_unchecked_total',
    help: 'Requests let through without a rate limit check because Redis failed or timed out, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'tollgate_queue_jobs',
    help: 'Jobs in each queue by state, read when scraped.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly prismaStatements = new Gauge({
    name: 'tollgate_prisma_statements',
    help: 'Statements the Prisma client sent since start, read when scraped (admin, reports, invoice builds: none from tenants\' traffic or the workers).',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
  }
}
