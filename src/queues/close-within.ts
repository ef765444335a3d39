import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { Env } from '../config/env';

interface Closable {
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

const logger = new Logger('Shutdown');

/**
 * Closes a BullMQ worker or queue gracefully (running jobs finish), but gives up after `graceMs`
 * and drops its connections: a Redis that stopped answering must not hang a shutdown. A job cut
 * off this way is not lost; its lock expires and it runs again (charges are idempotent).
 */
export async function closeWithin(name: string, target: Closable, graceMs: number): Promise<void> {
  const closed = target.close().then(() => true, () => true);
  if (await Promise.race([closed, delay(graceMs, false, { ref: false })])) return;
  logger.warn(`${name} did not close within ${graceMs} ms (Redis unreachable?); dropping its connections`);
  await Promise.race([target.disconnect().catch(() => undefined), delay(1000, undefined, { ref: false })]);
}

/**
 * The one SHUTDOWN_GRACE_MS that every worker and queue of a process shares. The framework runs
 * the modules' shutdown hooks one module after another, so a grace per closer would add up.
 */
@Injectable()
export class ShutdownDeadline {
  private at: number | null = null;

  constructor(private readonly env: Env) {}

  /** Milliseconds left of the grace; the clock starts at the first call. */
  remaining(): number {
    this.at ??= Date.now() + this.env.SHUTDOWN_GRACE_MS;
    return Math.max(0, this.at - Date.now());
  }
}
