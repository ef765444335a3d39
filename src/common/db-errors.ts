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

/** Driver-adapter error kinds that mean the database could not be reached or kept the connection. */
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
/** Socket errors (from pg, ioredis or undici) that mean the peer is away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Prisma's own "cannot reach the database" codes. */
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1017']);

/**
 * True when a failure means a backing service (Postgres, Redis) is away, not that the request was
 * wrong: read from the drivers' error codes and kinds, the error's cause chain included.
 */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; name?: unknown; cause?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PRISMA_UNREACHABLE.has(e.code))) return true;
  const kind = e.meta?.driverAdapterError?.cause?.kind;
  if (typeof kind === 'string' && UNREACHABLE_KINDS.has(kind)) return true;
  const state = sqlStateOf(err);
  // 08: connection exception; 57P01-03: terminated, shutting down, cannot connect now; 53300: too many connections.
  if (state && (state.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(state))) return true;
  // ioredis gives up on a command it could not send (no code on these).
  if (e.name === 'MaxRetriesPerRequestError') return true;
  return isUnavailableError(e.cause, depth + 1);
}
