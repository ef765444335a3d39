/**
 * Gathers what is pushed during one turn of the event loop and hands it over in one batch (the
 * group commits of the hot path: one statement for every request of the moment). A batch is
 * handed over at once when it reaches `maxBatch`.
 */
export class TickBatch<T> {
  private pending: T[] = [];
  private scheduled = false;

  constructor(
    private readonly onBatch: (batch: T[]) => void,
    private readonly maxBatch = Number.POSITIVE_INFINITY,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush() {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) this.onBatch(batch);
  }
}
