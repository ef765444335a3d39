import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

/** What the Prisma client has done through its driver adapter. */
export interface PrismaUse {
  /** The client started: it connects on its first query, when it also loads its WebAssembly query compiler. */
  connected: boolean;
  /** Statements sent: queries, writes, transactions begun, scripts. */
  statements: number;
}

const STATEMENTS = new Set<PropertyKey>(['queryRaw', 'executeRaw', 'executeScript', 'startTransaction']);
/** The methods that hand out a further queryable (the adapter, a transaction): counted the same way. */
const OPENERS = new Set<PropertyKey>(['connect', 'startTransaction']);

function counting<T extends object>(target: T, use: PrismaUse): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'connect') use.connected = true;
        if (STATEMENTS.has(prop)) use.statements++;
        const result: unknown = value.apply(obj, args);
        return OPENERS.has(prop) ? (result as Promise<object>).then((opened) => counting(opened, use)) : result;
      };
    },
  });
}

/** The adapter factory, unchanged but for `use`, which counts what the client sends through it. */
export function countedAdapter(factory: SqlDriverAdapterFactory, use: PrismaUse): SqlDriverAdapterFactory {
  return counting(factory, use);
}
