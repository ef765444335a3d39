import { randomFillSync, randomUUID } from 'node:crypto';

/** Random bytes drawn 12 KiB at a time: one system call for hundreds of ids, not one each. */
const pool = Buffer.allocUnsafe(24 * 512);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** OpenAI-style object ids: resp_…, msg_…, rs_… (hex, 48 characters after the prefix). */
export const newId = (prefix: 'resp' | 'msg' | 'rs' | 'req' | 'fc' | 'ctc' | 'call') => `${prefix}_${randomHex(24)}`;

export const newUuid = () => randomUUID();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
