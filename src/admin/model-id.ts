/**
 * Model ids: 1..128 characters of letters, digits and . _ : / -, starting with a letter or digit
 * (so an id is never read as a spreadsheet formula, a flag or a hidden or relative path).
 */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export const isModelId = (value: unknown): boolean => typeof value === 'string' && MODEL_ID.test(value);
