import { Global, Module } from '@nestjs/common';
import { Env } from '../config/env';
import { ProvidersService } from './providers.service';
import { SIMULATED_OPTIONS, SimulatedProvider } from './simulated/simulated.provider';

@Global()
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
    SimulatedProvider,
    ProvidersService,
  ],
  exports: [ProvidersService],
})
export class ProvidersModule {}
