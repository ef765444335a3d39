import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/** The process's root pino logger: JSON lines, shared by Fastify (request logs) and Nest. */
export function createRootLogger(level: string): Logger {
  return pino({ level, base: { service: 'tollgate' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Nest's LoggerService over pino, so framework and app logs are structured too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message && typeof message === 'object') this.root[level]({ context, ...(message as object) }, rest.map(String).join(' ') || undefined);
    else this.root[level]({ context, extra: rest.length ? rest : undefined }, String(message));
  }

  log(message: unknown, ...rest: unknown[]) { this.write('info', message, rest); }
  error(message: unknown, ...rest: unknown[]) { this.write('error', message, rest); }
  warn(message: unknown, ...rest: unknown[]) { this.write('warn', message, rest); }
  debug(message: unknown, ...rest: unknown[]) { this.write('debug', message, rest); }
  verbose(message: unknown, ...rest: unknown[]) { this.write('trace', message, rest); }
}
