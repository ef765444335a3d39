import { createHash } from 'node:crypto';

/** sha256 (hex) of the JSON of `value`; the same on any thread. */
export function jsonDigest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
