/**
 * The SQLSTATE of a failed query, whether it came from `pg` directly or through Prisma's driver
 * adapter (which nests it in meta.driverAdapterError.cause.originalCode). Undefined when the
 * database was not reached at all.
 */
export function sqlStateOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const nested = e?.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof nested === 'string') return nested;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
}

/**
 * True when the statement itself was refused (bad data, a constraint, bad SQL, a size limit):
 * sending it again cannot succeed. Anything else (unreachable, terminated, restarting) may pass later.
 */
export function isPermanentDbError(err: unknown): boolean {
  const state = sqlStateOf(err);
  return state !== undefined && ['22', '23', '42', '54'].includes(state.slice(0, 2));
}
