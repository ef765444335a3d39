/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): self time by package and the hottest functions.
 * Standalone: node -r ./bench/register.js bench/profile-summary.ts <file.cpuprofile>
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: an npm package, a file of ours, Node itself, or V8 (GC, idle). */
export function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  if (url.startsWith('wasm://')) return 'wasm';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `tollgate:${url.slice(dist + '/dist/'.length).replace(/\.js$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(file: string, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  const idleUs = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((s, [, us]) => s + us, 0);
  const busyUs = totalUs - idleUs;

  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const owner = ownerOf(url, functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }

  // Inclusive time of the frames under which a package's code runs (first entry into the package
  // on each stack), so "time spent inside prisma, called from anywhere" is counted once.
  const inclusiveByOwner = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { url, functionName } = byId.get(cur)!.callFrame;
      if (functionName === '(idle)') break;
      const owner = ownerOf(url, functionName);
      if (!seen.has(owner)) {
        seen.add(owner);
        inclusiveByOwner.set(owner, (inclusiveByOwner.get(owner) ?? 0) + us);
      }
    }
  }

  const pct = (us: number) => +((us / busyUs) * 100).toFixed(1);
  const sorted = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => ({ what: k, ms: Math.round(us / 1000), pct_of_busy: pct(us) }));
  return {
    file,
    wall_ms: Math.round(totalUs / 1000),
    busy_ms: Math.round(busyUs / 1000),
    busy_pct_of_wall: +((busyUs / totalUs) * 100).toFixed(1),
    self_by_package: sorted(byOwner, 20),
    inclusive_by_package: sorted(inclusiveByOwner, 20).filter((r) => !r.what.startsWith('(')),
    top_self_functions: sorted(byFunction, top),
  };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node -r ./bench/register.js bench/profile-summary.ts <file.cpuprofile>');
    process.exit(2);
  }
  console.log(JSON.stringify(summarizeProfile(file), null, 2));
}
