/** Deterministic pseudo-random text over `alphabet`, with no repetition for the BPE's cache to hide. */
export function scrambled(length: number, alphabet: string, seed = 1): string {
  const chars = [...alphabet];
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += chars[(x >>> 8) % chars.length];
  }
  return out;
}
