import { Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';

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
