import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { waitFor } from './wait';

/** A redis-server of a test's own on a free loopback port, to stop, flush and restart for real. */
export interface PrivateRedis {
  url: string;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  flushAll(): Promise<void>;
  /** The clients connected right now, not counting the one asking. */
  clientCount(): Promise<number>;
  /** SIGKILL (all data lost: no persistence), then a fresh server on the same port. */
  restart(): Promise<void>;
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function ask<T>(url: string, command: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 2000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await command(r);
  } finally {
    r.disconnect();
  }
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('private redis-server', () => ask(url, (r) => r.ping()).catch(() => null), 10_000);
  };
  const exit = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    flushAll: () => ask(url, (r) => r.flushall()).then(() => undefined),
    clientCount: () => ask(url, async (r) => String(await r.call('CLIENT', 'LIST')).trim().split('\n').length - 1),
    restart: async () => {
      await exit();
      await launch();
    },
    kill: exit,
  };
}
