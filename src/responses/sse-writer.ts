import type { ServerResponse } from 'node:http';
import type { StreamFrame } from './stream-events';

/** Writes server-sent events to a raw Node response, with back-pressure and keep-alives. */
export class SseWriter {
  private timer: NodeJS.Timeout | null = null;
  private lastWrite = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string | number | string[] | undefined>,
    /** Called once, just before the headers go out (the framework lets go of the response). */
    private readonly onOpen: () => void = () => undefined,
    /** A quiet stream gets an SSE comment (ignored by clients) this often. */
    private readonly keepAliveMs = 15_000,
    /** A client that reads nothing for this long is cut off (its request then ends as a disconnect). */
    private readonly writeTimeoutMs = 30_000,
  ) {}

  get opened(): boolean {
    return this.res.headersSent;
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  open() {
    if (this.opened) return;
    this.onOpen();
    this.res.writeHead(200, {
      ...this.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.lastWrite = Date.now();
    this.timer = setInterval(() => {
      if (Date.now() - this.lastWrite >= this.keepAliveMs) void this.write(': ping\n\n');
    }, this.keepAliveMs / 3);
    this.timer.unref();
  }

  send(frames: StreamFrame[]): Promise<void> {
    if (!frames.length) return Promise.resolve();
    this.open();
    return this.write(frames.map((f) => `event: ${f.type}\ndata: ${JSON.stringify(f.data)}\n\n`).join(''));
  }

  /** Data-only events (`data: {...}`), as chat completion streams send them. */
  sendData(objects: unknown[]): Promise<void> {
    if (!objects.length) return Promise.resolve();
    this.open();
    return this.write(objects.map((o) => `data: ${JSON.stringify(o)}\n\n`).join(''));
  }

  sendDone(): Promise<void> {
    return this.write('data: [DONE]\n\n');
  }

  end() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.res.writableEnded) this.res.end();
  }

  private write(chunk: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.lastWrite = Date.now();
    if (this.res.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const stalled = setTimeout(() => this.res.destroy(), this.writeTimeoutMs);
      const done = () => {
        clearTimeout(stalled);
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }
}
