import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ChargerService } from './charger.service';

/** Most events charged in one transaction: a backlog goes in several, so a crash mid-way loses one's work. */
const MAX_BATCH = 100;
/** How long the first event of a batch waits for company. */
const LINGER_MS = 5;

interface Waiter {
  id: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the events of concurrently running charge jobs into one transaction. If a batch fails,
 * its events are charged one by one, so one bad event fails only its own job (which BullMQ then
 * retries and, in the end, keeps as failed: the dead-letter list).
 */
@Injectable()
export class ChargeBatcher implements OnModuleDestroy {
  private readonly logger = new Logger(ChargeBatcher.name);
  private waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly charger: ChargerService) {}

  charge(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id, resolve, reject });
      if (this.waiting.length >= MAX_BATCH) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), LINGER_MS);
    });
  }

  private flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting;
    this.waiting = [];
    if (!batch.length) return;
    const run = this.run(batch).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async run(batch: Waiter[]) {
    try {
      await this.charger.chargeEvents(batch.map((w) => w.id));
      batch.forEach((w) => w.resolve());
    } catch (err) {
      if (batch.length > 1) this.logger.warn(`batch of ${batch.length} failed (${String(err)}); charging one by one`);
      await Promise.all(
        batch.map((w) =>
          batch.length === 1
            ? w.reject(err)
            : this.charger.chargeEvents([w.id]).then(() => w.resolve(), w.reject),
        ),
      );
    }
  }

  async onModuleDestroy() {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
