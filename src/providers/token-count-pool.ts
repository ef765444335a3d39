import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface TokenCountPoolOptions {
  /** Most worker threads running at once. */
  threads: number;
  /** Most tasks waiting for a thread; one more is refused (PoolFullError). */
  maxQueue: number;
  /** A thread idle this long exits (each holds its own copy of the tokenizer tables). */
  idleTimeoutMs: number;
}

export class PoolFullError extends Error {
  constructor() {
    super('The token counting queue is full.');
  }
}

/** What a worker thread is asked: the token counts of texts, or the jsonDigest of a value. */
export type PoolJob = { kind: 'count'; texts: string[] } | { kind: 'digest'; value: unknown };

interface Task {
  job: PoolJob;
  resolve: (result: any) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  task: Task | null;
  idleTimer: NodeJS.Timeout | null;
}

const WORKER_FILE = path.join(__dirname, `token-count.worker${path.extname(__filename)}`);

/**
 * Built code runs the compiled worker as it is. From TypeScript sources (Jest with @swc/jest)
 * the worker thread, which has no Jest transform, compiles its .ts files with @swc/core on load.
 */
function startWorker(): Worker {
  if (WORKER_FILE.endsWith('.js')) return new Worker(WORKER_FILE);
  const swc = require.resolve('@swc/core', { paths: [__dirname] });
  const boot = `
    const Module = require('node:module');
    const fs = require('node:fs');
    const { transformSync } = require(${JSON.stringify(swc)});
    const options = { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
    Module._extensions['.ts'] = (module, filename) =>
      module._compile(transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename }).code, filename);
    require(${JSON.stringify(WORKER_FILE)});`;
  return new Worker(boot, { eval: true });
}

/**
 * Counts tokens (and hashes large prompts) in worker threads, one task per thread at a time, the
 * rest queued up to maxQueue. Threads start on demand and exit when idle; an idle thread does not
 * keep the process alive. close() rejects what is waiting and stops every thread.
 */
export class TokenCountPool {
  private readonly threads = new Set<Thread>();
  private readonly queue: Task[] = [];
  private closed = false;

  constructor(private readonly options: TokenCountPoolOptions) {}

  get threadCount(): number {
    return this.threads.size;
  }

  /** The token count of each text, in order. */
  count(texts: string[]): Promise<number[]> {
    return this.run({ kind: 'count', texts });
  }

  /** jsonDigest(value), computed in a thread. */
  digest(value: unknown): Promise<string> {
    return this.run({ kind: 'digest', value });
  }

  private run<T>(job: PoolJob): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('The token counting pool is closed.'));
      const task: Task = { job, resolve, reject };
      const idle = [...this.threads].find((t) => t.task === null);
      if (idle) return this.assign(idle, task);
      if (this.threads.size < this.options.threads) return this.assign(this.spawn(), task);
      if (this.queue.length >= this.options.maxQueue) return reject(new PoolFullError());
      this.queue.push(task);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('The token counting pool is closed.'));
    await Promise.all([...this.threads].map((t) => t.worker.terminate()));
  }

  private spawn(): Thread {
    const thread: Thread = { worker: startWorker(), task: null, idleTimer: null };
    this.threads.add(thread);
    thread.worker.on('message', (result: unknown) => {
      const task = thread.task!;
      thread.task = null;
      task.resolve(result);
      this.next(thread);
    });
    thread.worker.on('error', (err) => this.fail(thread, err));
    thread.worker.on('exit', (code) => this.fail(thread, new Error(`A token counting thread exited (code ${code}).`)));
    return thread;
  }

  private assign(thread: Thread, task: Task) {
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.idleTimer = null;
    thread.task = task;
    thread.worker.ref();
    thread.worker.postMessage(task.job);
  }

  private next(thread: Thread) {
    const task = this.queue.shift();
    if (task) return this.assign(thread, task);
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => void thread.worker.terminate(), this.options.idleTimeoutMs).unref();
  }

  /** A thread that died fails only its own task; waiting tasks go to a new thread. */
  private fail(thread: Thread, err: Error) {
    if (!this.threads.delete(thread)) return;
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.task?.reject(err);
    thread.task = null;
    void thread.worker.terminate();
    const waiting = this.queue.shift();
    if (waiting && !this.closed) this.assign(this.spawn(), waiting);
  }
}
