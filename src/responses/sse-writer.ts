import type { ServerResponse } from 'node:http';
import type { StreamFrame } from './stream-events';

const DONE = Promise.resolve();
/** Gathered bytes past this go out at once (a producer that never yields still meets back-pressure). */
const FLUSH_AT = 64 * 1024;

/**
 * Writes server-sent events to a raw Node response, with back-pressure and keep-alives. The
 * events of one turn of the event loop (all those an upstream chunk carried) go out in one socket
 * write, not one each.
 */
export class SseWriter {
  private timer: NodeJS.Timeout | null = null;
  private lastWrite = 0;
  private pending = '';
  private flushScheduled = false;
  /** Set while the socket's buffer is full: writers wait on it. */
  private drained: Promise<void> | null = null;

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
    this.flush();
    if (!this.res.writableEnded) this.res.end();
  }

  private write(chunk: string): Promise<void> {
    if (this.closed) return DONE;
    this.lastWrite = Date.now();
    this.pending += chunk;
    if (this.pending.length >= FLUSH_AT) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return this.drained ?? DONE;
  }

  private flush() {
    const chunk = this.pending;
    this.pending = '';
    if (!chunk || this.closed || this.res.write(chunk) || this.drained) return;
    this.drained = new Promise((resolve) => {
      const stalled = setTimeout(() => this.res.destroy(), this.writeTimeoutMs);
      const done = () => {
        clearTimeout(stalled);
        this.res.off('drain', done);
        this.res.off('close', done);
        this.drained = null;
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }
}
