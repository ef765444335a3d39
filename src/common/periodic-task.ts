/**
 * Runs `task` every `everyMs`, never two at once (a slow run makes the next tick skip), and lets a
 * shutdown wait for the run in progress. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly everyMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start() {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async tick() {
    if (this.running) return;
    this.running = this.task().catch(this.onError);
    await this.running;
    this.running = null;
  }
}
