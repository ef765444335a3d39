import { randomBytes, randomUUID } from 'node:crypto';

/** OpenAI-style object ids: resp_…, msg_…, rs_… (hex, 48 characters after the prefix). */
export const newId = (prefix: 'resp' | 'msg' | 'rs' | 'req' | 'fc' | 'ctc' | 'call') => `${prefix}_${randomBytes(24).toString('hex')}`;

export const newUuid = () => randomUUID();
