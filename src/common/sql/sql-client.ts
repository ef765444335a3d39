import type { Prisma } from '../../generated/prisma/client';

/** What a repository function needs: the client or a transaction, for raw statements. */
export type SqlClient = Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw'>;
