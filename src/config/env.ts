import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/** The environment, validated once at boot. Names and defaults are part of the public interface (README, Configuration). */
export class Env {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: string = 'development';

  @IsIn(['all', 'api', 'worker'])
  ROLE: string = 'all';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  /** Comma-separated browser origins allowed to call /v1/* (CORS); unset: none. */
  @IsOptional()
  @Matches(/^\s*https?:\/\/[^\s,/]+\s*(,\s*https?:\/\/[^\s,/]+\s*)*$/, {
    message: 'CORS_ORIGINS must be comma-separated origins such as https://app.example.com',
  })
  CORS_ORIGINS?: string;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgresql:// URL' })
  DATABASE_URL: string = 'postgresql://postgres@127.0.0.1:5432/tollgate';

  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Longest wait for one Redis command on the request path (ms); past it the call fails (and rate limits fail open). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  REDIS_COMMAND_TIMEOUT_MS: number = 500;

  @Matches(/^[A-Za-z0-9_:.-]+$/, { message: 'QUEUE_PREFIX may use letters, digits and _ : . -' })
  QUEUE_PREFIX: string = 'tollgate';

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @IsOptional()
  @IsString()
  PROVIDERS_FILE?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SIMULATED_LATENCY_MS: number = 0;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SIMULATED_TOKENS_PER_SECOND: number = 0;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SIMULATED_OUTPUT_TOKENS?: number;

  /** A usage event still uncharged after this long is queued again by the relay (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  CHARGE_RELAY_AFTER_MS: number = 5000;

  /**
   * How long the charge jobs of finished requests gather before they are queued as one job (ms);
   * 0 queues each event-loop turn's events at once. The events are already in Postgres, so this
   * only delays the charge: one BullMQ job and one charge transaction serve every request of the
   * window instead of one each.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  CHARGE_ENQUEUE_LINGER_MS: number = 20;

  /** How often the relay looks for such events (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  CHARGE_RELAY_EVERY_MS: number = 2000;

  /** How often workers re-queue stale invoices and re-register a lost monthly schedule (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  INVOICE_SWEEP_EVERY_MS: number = 30_000;

  /** Quiet streams get an SSE comment (`: ping`) this often (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  SSE_KEEPALIVE_MS: number = 15_000;

  /**
   * How often a process records the progress of its running requests (tokens produced so far) and
   * renews their leases, in one statement for all of them (ms). A crash loses at most this much.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  STREAM_CHECKPOINT_MS: number = 1000;

  /** A running request's reservation is released this long after its process stopped renewing it (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  REQUEST_LEASE_MS: number = 60_000;

  /** How long an answer's usage is retried against an unreachable database before it is spooled (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SAVE_RETRY_MS: number = 5000;

  /** Where usage that could not reach the database is kept (fsync'd) until it can. */
  @IsString()
  SPOOL_DIR: string = 'data/spool';

  /** A stream whose client has not read for this long is cut (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  STREAM_WRITE_TIMEOUT_MS: number = 30_000;

  /** On shutdown, running jobs get this long to finish before the queue connections are dropped (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS: number = 10_000;

  /** Allow webhook URLs whose host is private, loopback or link-local ("true"; default "false"). */
  @IsIn(['true', 'false'], { message: 'WEBHOOK_ALLOW_PRIVATE must be "true" or "false"' })
  WEBHOOK_ALLOW_PRIVATE: string = 'false';

  /** A failed webhook attempt n is retried after WEBHOOK_RETRY_BASE_MS × 2^(n−1) (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_BASE_MS: number = 5000;

  /** Attempts per webhook delivery before it is marked failed. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(30)
  WEBHOOK_MAX_ATTEMPTS: number = 12;

  /** How long a receiver has to answer one attempt (ms); no answer in time is a failed attempt. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  /** How often workers re-queue webhook deliveries whose job was lost (ms); a delivery overdue by this long is re-queued. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  WEBHOOK_SWEEP_EVERY_MS: number = 10_000;

  /** Largest accepted request body, bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES: number = 8 * 1024 * 1024;
}

export class EnvError extends Error {}

/** Validates `source` (process.env by default); throws EnvError naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(Env, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false });
  if (errors.length) {
    const lines = errors.map((e) => `  ${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
  }
  if (!env.ADMIN_TOKEN) {
    if (env.NODE_ENV === 'production') throw new EnvError('Invalid environment:\n  ADMIN_TOKEN is required when NODE_ENV=production');
    env.ADMIN_TOKEN = `adm-${randomBytes(18).toString('base64url')}`;
    generatedAdminToken = true;
  }
  return env;
}

/** True when loadEnv made up the admin token (development), so boot can print it. */
export let generatedAdminToken = false;
