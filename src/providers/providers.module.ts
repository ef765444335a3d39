import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Env } from '../config/env';
import { OpenAICompatibleProvider } from './openai-compatible/openai-compatible.provider';
import type { Provider } from './provider';
import { loadProvidersFile, ProvidersFileError } from './providers-file';
import { ProvidersService, UPSTREAM_PROVIDERS } from './providers.service';
import { SIMULATED_OPTIONS, SimulatedProvider } from './simulated/simulated.provider';
import { closeTokenCounting } from './token-counting';

@Injectable()
class TokenCountingShutdown implements OnApplicationShutdown {
  onApplicationShutdown() {
    return closeTokenCounting();
  }
}

@Module({
  providers: [
    {
      provide: SIMULATED_OPTIONS,
      inject: [Env],
      useFactory: (env: Env) => ({
        latencyMs: env.SIMULATED_LATENCY_MS,
        tokensPerSecond: env.SIMULATED_TOKENS_PER_SECOND,
        outputTokens: env.SIMULATED_OUTPUT_TOKENS ?? null,
      }),
    },
    {
      // PROVIDERS_FILE, read and validated at boot: a bad file stops start-up (exit 1) with a
      // message naming the provider and the field (ProvidersFileError). api_key_env reads process.env.
      provide: UPSTREAM_PROVIDERS,
      inject: [Env],
      useFactory: (env: Env): Provider[] => {
        if (!env.PROVIDERS_FILE) return [];
        try {
          return loadProvidersFile(env.PROVIDERS_FILE, process.env).map((config) => new OpenAICompatibleProvider(config));
        } catch (err) {
          // Nest logs the error and exits 1; say it plainly on stderr too, as a bad variable is.
          if (err instanceof ProvidersFileError) console.error(err.message);
          throw err;
        }
      },
    },
    SimulatedProvider,
    ProvidersService,
    TokenCountingShutdown,
  ],
  exports: [ProvidersService],
})
export class ProvidersModule {}
