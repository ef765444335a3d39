import { isPermanentDbError, isUnavailableError, sqlStateOf } from './db-errors';

const viaAdapter = (cause: Record<string, unknown>) => ({ code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

describe('database error classification (codes, never messages)', () => {
  it('reads the SQLSTATE from pg and from Prisma driver-adapter errors', () => {
    expect(sqlStateOf({ code: '22P05' })).toBe('22P05');
    expect(sqlStateOf(viaAdapter({ originalCode: '23505', kind: 'postgres' }))).toBe('23505');
    expect(sqlStateOf({ code: 'ECONNREFUSED' })).toBeUndefined();
    expect(sqlStateOf(null)).toBeUndefined();
  });

  it.each([
    ['unreachable database', viaAdapter({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5999 })],
    ['terminated backend', viaAdapter({ originalCode: '57P01', kind: 'postgres' })],
    ['connection exception', { code: '08006' }],
    ['too many connections', viaAdapter({ kind: 'TooManyConnections' })],
    ['socket refused', { code: 'ECONNREFUSED' }],
    ['nested cause', { message: 'wrapped', cause: { code: 'ECONNRESET' } }],
    ['ioredis gave up', Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })],
  ])('%s is unavailable, not permanent', (_name, err) => {
    expect(isUnavailableError(err)).toBe(true);
    expect(isPermanentDbError(err)).toBe(false);
  });

  it.each([
    ['NUL in jsonb', viaAdapter({ originalCode: '22P05', kind: 'postgres' })],
    ['unique violation', { code: '23505' }],
    ['append-only refusal', { code: '23001' }],
    ['bad SQL', { code: '42601' }],
  ])('%s is permanent, not unavailable', (_name, err) => {
    expect(isPermanentDbError(err)).toBe(true);
    expect(isUnavailableError(err)).toBe(false);
  });

  it('does not classify by message text', () => {
    expect(isUnavailableError(new Error("Can't reach database server"))).toBe(false);
    expect(isUnavailableError(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
  });
});
