import { invalidValue } from '../common/errors';

/** Providers built into every Tollgate; the others come from PROVIDERS_FILE. */
export const BUILT_IN_PROVIDERS: readonly string[] = ['simulated'];

/** True for a built-in provider name (case-sensitive). */
export function isKnownProvider(name: string): boolean {
  return BUILT_IN_PROVIDERS.includes(name);
}

/** What model registration needs of the provider registry (ProvidersService). */
export interface ProviderRegistry {
  has(name: string): boolean;
  names(): string[];
}

/**
 * Model registration accepts any provider the registry knows: `simulated` and every provider of
 * PROVIDERS_FILE. Anything else is a 400 naming `provider`.
 */
export function assertKnownProvider(registry: ProviderRegistry, name: string): void {
  if (!registry.has(name)) {
    throw invalidValue('provider', `Unknown provider '${name}'. Configured providers: ${registry.names().join(', ')}.`);
  }
}
