/**
 * Gathers what is pushed during one turn of the event loop, or during `lingerMs` from the first
 * push when set, and hands it over in one batch (the group commits of the hot path: one statement
 * for every request of the moment). A batch is handed over at once when it reaches `maxBatch`.
 */
export class TickBatch<T> {
  private pending: T[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly onBatch: (batch: T[]) => void,
    private readonly maxBatch = Number.POSITIVE_INFINITY,
    private readonly lingerMs = 0,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.lingerMs > 0) this.timer = setTimeout(() => this.flush(), this.lingerMs);
      else setImmediate(() => this.flush());
    }
  }

  /** Hands over what is gathered now (shutdown: nothing waits out the linger). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) this.onBatch(batch);
  }
}
