import type { DefaultJobOptions } from 'bullmq';

/** Every queue, job name and payload in one place. Payloads carry ids; state lives in Postgres. */
export const QUEUES = {
  charges: 'charges',
  invoices: 'invoices',
  webhooks: 'webhooks',
} as const;

export const JOBS = {
  charge: 'charge',
  /** Charge the usage events finished in one moment (ChargeBatchJob). */
  chargeBatch: 'charge-batch',
  /** Build one invoice's lines and total (InvoiceJob). */
  buildInvoice: 'build-invoice',
  /** Issue last month's invoices for every active tenant (repeatable, on the 1st, UTC). */
  issueMonthlyInvoices: 'issue-monthly-invoices',
  /** Send one webhook delivery (WebhookJob). */
  deliverWebhook: 'deliver-webhook',
} as const;

/** Charge one usage event. jobId = usageEventId, so the same event is never queued twice. */
export interface ChargeJob {
  usageEventId: string;
}

/**
 * Charge the events that finished together (one outbox flush): one job instead of one per request.
 * An event the batch cannot charge is queued again as its own ChargeJob, so it fails alone.
 */
export interface ChargeBatchJob {
  usageEventIds: string[];
}

/** Most events in one ChargeBatchJob. */
export const CHARGE_BATCH_MAX = 500;

export const CHARGE_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  // Completed jobs need not be kept: the ledger is the record. Failed ones stay: the dead-letter list.
  removeOnComplete: true,
  removeOnFail: false,
};

/**
 * Build an invoice. jobId = "<invoiceId>-<generation>": a re-queued invoice (a failed one asked for
 * again, or one built before its period ended) gets a new job; the same generation is never queued twice.
 */
export interface InvoiceJob {
  invoiceId: string;
  generation: number;
}

export const invoiceJobId = (job: InvoiceJob) => `${job.invoiceId}-${job.generation}`;

/** Id of the repeatable monthly job (BullMQ job scheduler). */
export const MONTHLY_INVOICES_SCHEDULER = 'monthly-invoices';
/** 00:05 UTC on the 1st: five minutes for the last charges of the month to land. */
export const MONTHLY_INVOICES_CRON = '5 0 1 * *';

export const INVOICE_JOB_OPTIONS: DefaultJobOptions = {
  // An invoice waits (retrying) while usage events of its period are still uncharged: up to ~1 h.
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

/**
 * Send one webhook delivery (one event to one endpoint). jobId = deliveryId. Attempts and back-off
 * are set per job from WEBHOOK_MAX_ATTEMPTS and WEBHOOK_RETRY_BASE_MS (webhookJobOptions).
 */
export interface WebhookJob {
  deliveryId: string;
}

export const WEBHOOK_JOB_OPTIONS: DefaultJobOptions = {
  // The delivery rows and their attempts are the record; the sweeper re-queues a pending one.
  removeOnComplete: true,
  removeOnFail: true,
};

export const webhookJobOptions = (maxAttempts: number, retryBaseMs: number) => ({
  attempts: maxAttempts,
  // BullMQ's exponential back-off waits delay × 2^(n−1) after the n-th failed attempt.
  backoff: { type: 'exponential' as const, delay: retryBaseMs },
});
