import { CatalogService, MAX_CACHED_MODELS } from '../../src/catalog/catalog.service';
import { Medium, startMedium } from '../support/medium';

/** The in-process model cache on the real database: bounded, whatever names clients send. */
describe('catalog model cache (medium)', () => {
  let m: Medium;
  let catalog: CatalogService;
  const MODEL = `medium-cache-${Date.now()}`;

  beforeAll(async () => {
    m = await startMedium([CatalogService]);
    catalog = m.get(CatalogService);
    await m.price(MODEL, { input_price: '1', output_price: '2', effective_from: '2020-01-01T00:00:00Z' });
  });

  afterAll(() => m?.close());

  it('holds at most MAX_CACHED_MODELS names, however many unknown ones are asked for, and still answers right', async () => {
    const names = Array.from({ length: MAX_CACHED_MODELS + 200 }, (_, i) => `no-such-model-${i}`);
    for (let i = 0; i < names.length; i += 100) await Promise.all(names.slice(i, i + 100).map((n) => catalog.findModel(n)));
    expect(catalog.cachedModels).toBe(MAX_CACHED_MODELS);
    expect(await catalog.findModel(names[0])).toBeNull();
    expect((await catalog.findModel(MODEL))?.price?.input).toBe('1');
    expect(catalog.cachedModels).toBe(MAX_CACHED_MODELS);
  });
});
