/** Per-process accounting read from /proc: CPU seconds (user + system) and peak RSS. */
import { readFileSync } from 'node:fs';

const TICK = 100; // getconf CLK_TCK on Linux

export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0; // gone
  }
}

export function rssMbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every pid whose command name passes `pick`. */
export function pidsOf(pick: (comm: string) => boolean): number[] {
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (pick(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Named groups of pids; the pids of a group are looked up again at each reading (backends come and go). */
export type ProcessGroups = Record<string, () => number[]>;

/** CPU seconds of each group between start() and the returned stop(). */
export function cpuWindow(groups: ProcessGroups) {
  const before = new Map<string, Map<number, number>>();
  for (const [name, pids] of Object.entries(groups)) before.set(name, new Map(pids().map((p) => [p, cpuOf(p)])));
  return () => {
    const used: Record<string, number> = {};
    for (const [name, pids] of Object.entries(groups)) {
      const start = before.get(name)!;
      let s = 0;
      for (const pid of new Set([...start.keys(), ...pids()])) s += Math.max(0, cpuOf(pid) - (start.get(pid) ?? 0));
      used[name] = s;
    }
    return used;
  };
}

/** Samples the peak RSS of the pids it is given every 200 ms. */
export class RssSampler {
  readonly peakMb = new Map<string, number>();
  /** Peaks since the last resetWindow(). */
  readonly windowPeakMb = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly watched = new Map<string, number>();

  constructor() {
    this.timer = setInterval(() => {
      for (const [name, pid] of this.watched) {
        const mb = rssMbOf(pid);
        this.peakMb.set(name, Math.max(this.peakMb.get(name) ?? 0, mb));
        this.windowPeakMb.set(name, Math.max(this.windowPeakMb.get(name) ?? 0, mb));
      }
    }, 200);
    this.timer.unref();
  }

  watch(name: string, pid: number) {
    this.watched.set(name, pid);
  }

  resetWindow() {
    this.windowPeakMb.clear();
  }

  stop() {
    clearInterval(this.timer);
  }
}
