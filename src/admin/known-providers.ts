/**
 * Provider names a model may be routed to. Only the built-in `simulated` provider exists today;
 * once providers from PROVIDERS_FILE are loaded by an injectable registry, ModelsService should
 * ask that registry instead of calling this function.
 */
export const BUILT_IN_PROVIDERS: readonly string[] = ['simulated'];

export function isKnownProvider(name: string): boolean {
  return name === 'simulated';
}
