import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

export const ROOT = path.join(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** `dist/` as `npm run build` makes it, rebuilt only when missing or older than `src/`. */
export function ensureBuilt() {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', env: process.env });
}

/** A database and queue prefix of a suite's own, so other suites' workers never touch its events. */
export function isolatedServices(suffix: string) {
  const url = new URL(process.env.DATABASE_URL!);
  const name = `${url.pathname.slice(1)}_${suffix}`;
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const queuePrefix = `${process.env.QUEUE_PREFIX}-${suffix}`;
  return {
    databaseUrl,
    queuePrefix,
    migrate: () => execFileSync(process.execPath, [path.join(ROOT, 'scripts/migrate.mjs')], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: 'pipe' }),
    async drop() {
      const admin = new URL(databaseUrl);
      admin.pathname = '/postgres';
      const pg = new Client({ connectionString: admin.toString() });
      await pg.connect();
      await pg.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await pg.end();
      const redis = new Redis(process.env.REDIS_URL!);
      const keys = await redis.keys(`${queuePrefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

export interface Service {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  /** The API's base URL (ROLE=api|all), once it listens. */
  url: Promise<string>;
}

/** `node dist/main.js` as a real process (the built service, as users run it). */
export function spawnService(env: Record<string, string>): Service {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolveUrl: (url: string) => void;
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8000);
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolveUrl(m[1]);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out, url };
}

/** SIGTERM (drain), then SIGKILL if it does not stop within 10 s. */
export async function stopService(s: Service) {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.exited;
  s.child.kill('SIGTERM');
  // The grace timer is cleared once the child is gone: left pending, it kept Jest alive for up to 10 s.
  let grace: NodeJS.Timeout | undefined;
  const done = await Promise.race([s.exited.then(() => true), new Promise<boolean>((r) => (grace = setTimeout(() => r(false), 10_000)))]);
  clearTimeout(grace);
  if (!done) s.child.kill('SIGKILL');
  return s.exited;
}
