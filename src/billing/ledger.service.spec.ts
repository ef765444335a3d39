import { Prisma } from '../generated/prisma/client';
import { isNumericOverflow, isUniqueViolation, isUuid } from './ledger.service';

// LedgerService itself runs against the real database in test/medium/ledger.medium-spec.ts.
const TENANT = '11111111-1111-4111-8111-111111111111';
const p2002 = () => new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: 'test' });

describe('helpers', () => {
  it('isUuid', () => {
    expect(isUuid(TENANT)).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(undefined)).toBe(false);
  });

  it('isUniqueViolation recognises P2002 only', () => {
    expect(isUniqueViolation(p2002())).toBe(true);
    expect(isUniqueViolation(new Prisma.PrismaClientKnownRequestError('x', { code: 'P2025', clientVersion: 'test' }))).toBe(false);
    expect(isUniqueViolation(new Error('P2002'))).toBe(false);
  });

  it('isNumericOverflow finds 22003 however it is wrapped', () => {
    expect(isNumericOverflow({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '22003' } } } })).toBe(true);
    expect(isNumericOverflow({ code: '22003' })).toBe(true); // straight from pg
    expect(isNumericOverflow(new Error('numeric field overflow'))).toBe(false); // messages are not read
  });
});
