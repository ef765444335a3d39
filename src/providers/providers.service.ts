import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/errors';
import type { Provider } from './provider';
import { SimulatedProvider } from './simulated/simulated.provider';

/** The upstream providers configured in PROVIDERS_FILE (see providers.module.ts). */
export const UPSTREAM_PROVIDERS = Symbol('UPSTREAM_PROVIDERS');

/** A provider holding resources (connection pools) to release at shutdown. */
interface Closable {
  close(): Promise<void>;
}
const isClosable = (p: Provider): p is Provider & Closable => typeof (p as Partial<Closable>).close === 'function';

/**
 * Provider name -> implementation: the built-in `simulated` one (always present, cannot be
 * replaced) and every provider of PROVIDERS_FILE.
 */
@Injectable()
export class ProvidersService implements OnModuleDestroy {
  private readonly providers = new Map<string, Provider>();

  constructor(simulated: SimulatedProvider, @Optional() @Inject(UPSTREAM_PROVIDERS) upstream: Provider[] | null = null) {
    this.providers.set(simulated.name, simulated);
    for (const provider of upstream ?? []) {
      if (this.providers.has(provider.name)) throw new Error(`Provider '${provider.name}' is configured twice.`);
      this.providers.set(provider.name, provider);
    }
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  names(): string[] {
    return [...this.providers.keys()];
  }

  get(name: string): Provider {
    const provider = this.providers.get(name);
    if (!provider) throw new DomainError(ErrorCode.UpstreamError, `The model's provider '${name}' is not configured.`);
    return provider;
  }

  /** Closes the upstream connection pools (running requests get a short grace period). */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.providers.values()].filter(isClosable).map((p) => p.close().catch(() => undefined)));
  }
}
