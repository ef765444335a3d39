import type { DefaultJobOptions } from 'bullmq';

/** Every queue, job name and payload in one place. Payloads carry ids; state lives in Postgres. */
export const QUEUES = {
  charges: 'charges',
} as const;

export const JOBS = {
  charge: 'charge',
} as const;

/** Charge one usage event. jobId = usageEventId, so the same event is never queued twice. */
export interface ChargeJob {
  usageEventId: string;
}

export const CHARGE_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  // Completed jobs need not be kept: the ledger is the record. Failed ones stay: the dead-letter list.
  removeOnComplete: true,
  removeOnFail: false,
};
