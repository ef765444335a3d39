import type { PrismaClient } from '../generated/prisma/client';

/**
 * Bumps the auth revision. Run it in the same transaction as the revocation, key change or tenant
 * status change it announces: every process drops its key cache once it sees the new revision.
 */
export function bumpAuthRevision(db: Pick<PrismaClient, 'authRevision'>) {
  return db.authRevision.upsert({
    where: { id: 1 },
    create: { id: 1, revision: 1n },
    update: { revision: { increment: 1n }, changedAt: new Date() },
  });
}
