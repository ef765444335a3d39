/** Model ids: 1..128 characters of letters, digits and . _ : / - */
const MODEL_ID = /^[A-Za-z0-9._:/-]{1,128}$/;

export const isModelId = (value: unknown): boolean => typeof value === 'string' && MODEL_ID.test(value);
