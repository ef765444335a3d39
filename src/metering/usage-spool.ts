import { Logger } from '@nestjs/common';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FinalUsage } from './usage-event';

const SUFFIX = '.jsonl';
const CLAIMED = '.claimed-';

/** True while a process with this pid runs on this machine. */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A small local, append-only, fsync'd file of finished requests' usage that could not reach the
 * database. Each process appends to its own file; a replay (this process's, or any process's once
 * the writer is dead) claims a file by renaming it, applies it, then deletes it. Applying is
 * idempotent (it only finishes events still pending), so a replay cut short is simply run again.
 */
export class UsageSpool {
  private readonly logger = new Logger(UsageSpool.name);
  private readonly file: string;
  /** Appends and replays of this process, one at a time. */
  private lock: Promise<unknown> = Promise.resolve();
  private dirty = true;

  constructor(private readonly dir: string) {
    this.file = path.join(dir, `usage-${process.pid}-${Date.now().toString(36)}${SUFFIX}`);
  }

  /** Resolves once the records are on disk (fsync). */
  append(records: FinalUsage[]): Promise<void> {
    return this.locked(async () => {
      await mkdir(this.dir, { recursive: true });
      const handle = await open(this.file, 'a');
      try {
        await handle.write(records.map((r) => JSON.stringify(r) + '\n').join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.dirty = true;
    });
  }

  /** Whether a replay may find something (always true until the first replay has looked). */
  get mayHaveRecords(): boolean {
    return this.dirty;
  }

  /**
   * Applies every claimable spool file in the directory; returns how many records were applied.
   * A file whose apply fails stays claimed and is retried by the next replay.
   */
  replay(apply: (records: FinalUsage[]) => Promise<void>): Promise<number> {
    return this.locked(async () => {
      let names: string[];
      try {
        names = await readdir(this.dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.dirty = false;
          return 0;
        }
        throw err;
      }
      let applied = 0;
      let left = false;
      for (const name of names) {
        const claimed = await this.claim(name);
        if (claimed === 'busy') left = true;
        if (!claimed || claimed === 'busy') continue;
        const records = parse(await readFile(claimed, 'utf8'));
        if (records.length) await apply(records);
        await unlink(claimed);
        applied += records.length;
      }
      if (applied) this.logger.log(`applied ${applied} spooled usage records`);
      this.dirty = left;
      return applied;
    });
  }

  /** The path of `name` claimed for this process; 'busy' when its writer still runs; null when not a spool file. */
  private async claim(name: string): Promise<string | 'busy' | null> {
    const full = path.join(this.dir, name);
    const claimedBy = name.includes(CLAIMED) ? Number(name.slice(name.lastIndexOf(CLAIMED) + CLAIMED.length)) : null;
    if (claimedBy !== null) {
      if (claimedBy !== process.pid && alive(claimedBy)) return 'busy';
    } else if (name.endsWith(SUFFIX)) {
      const writer = Number(/^usage-(\d+)-/.exec(name)?.[1]);
      if (full !== this.file && alive(writer)) return 'busy';
    } else {
      return null;
    }
    const target = `${full.split(CLAIMED)[0]}${CLAIMED}${process.pid}`;
    if (target === full) return full;
    try {
      await rename(full, target);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // another process claimed it first
      throw err;
    }
  }

  private locked<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/** The records of a spool file; a torn last line (a crash mid-append, before its fsync) is skipped. */
function parse(text: string): FinalUsage[] {
  const records: FinalUsage[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as FinalUsage);
    } catch {
      /* torn write: that record was never acknowledged */
    }
  }
  return records;
}
