import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors';
import type { Provider } from './provider';
import { SimulatedProvider } from './simulated/simulated.provider';

/** Provider name -> implementation. `simulated` is built in and always present. */
@Injectable()
export class ProvidersService {
  private readonly providers = new Map<string, Provider>();

  constructor(simulated: SimulatedProvider) {
    this.providers.set(simulated.name, simulated);
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  names(): string[] {
    return [...this.providers.keys()];
  }

  get(name: string): Provider {
    const provider = this.providers.get(name);
    if (!provider) throw new ApiError(502, `The model's provider '${name}' is not configured.`, 'server_error', 'upstream_error');
    return provider;
  }
}
