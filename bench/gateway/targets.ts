/** Starting what is benched: the fake upstream, Portkey, and Tollgate in its two deployments. */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../lib';

export interface Proc {
  /** e.g. "tollgate-all", "api", "worker". */
  name: string;
  child: ChildProcess;
  heapFile: string | null;
  output: () => string;
}

export function spawnProc(name: string, args: string[], env: Record<string, string>, heapFile: string | null = null, cwd = ROOT): Proc {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, ...(heapFile ? { BENCH_HEAP_FILE: heapFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${d}`);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { name, child, heapFile, output: () => out };
}

export function firstLine(p: Proc): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.child.stdout!.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i).trim());
    });
    p.child.once('exit', (code) => reject(new Error(`${p.name} exited with ${code} before it was ready: ${p.output()}`)));
  });
}

export async function waitHttp(url: string, p: Proc) {
  for (let i = 0; i < 600; i++) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}: ${p.output()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer`);
}

export async function stopProc(p: Proc, graceMs = 15_000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function peakHeap(p: Proc): { heap_used_mb: number; heap_total_mb: number; external_mb: number; rss_mb: number } | null {
  if (!p.heapFile) return null;
  try {
    const m = JSON.parse(readFileSync(p.heapFile, 'utf8')) as Record<string, number>;
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    return { heap_used_mb: mb(m.heapUsed), heap_total_mb: mb(m.heapTotal), external_mb: mb(m.external), rss_mb: mb(m.rss) };
  } catch {
    return null;
  }
}

export const PORTKEY_START = path.join('node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/**
 * The variables `npm run serve` (what `npm start` ends with) sets before `node dist/main.js`, e.g.
 * MALLOC_ARENA_MAX: the bench runs Tollgate as npm start does. `${VAR:-default}` gives the default.
 */
export function serveEnv(root = ROOT): Record<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const script = pkg.scripts?.serve ?? '';
  const env: Record<string, string> = {};
  for (const m of script.matchAll(/(?:^|\s)([A-Z_][A-Z0-9_]*)=(\S+)(?=\s)/g)) {
    const value = /^\$\{[A-Z_][A-Z0-9_]*:-(.*)\}$/.exec(m[2]);
    env[m[1]] = value ? value[1] : m[2];
  }
  return env;
}
