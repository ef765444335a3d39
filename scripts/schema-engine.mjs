// Prisma's own migration engine (the WebAssembly build), loaded without the native binary that the
// Prisma CLI would download. The wasm module is instantiated by hand so no node flag is needed.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);

export async function loadSchemaEngine(connectionString, datamodels = []) {
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m) => console.error(`schema engine panic: ${m}`) };
  const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm'));
  const bindings = await import(path.join(dir, 'schema_engine_bg.js'));
  const bytes = await readFile(path.join(dir, 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bindings });
  bindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  const output = [];
  const log = (line) => output.push(line);
  // The engine always wants a reachable database, even to diff two schema files (which reads nothing from it).
  const factory = new PrismaPg({ connectionString: connectionString ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
  // Keep what the engine opens, so close() can end its connections (the engine never does).
  const opened = [];
  for (const method of ['connect', 'connectToShadowDb']) {
    const original = factory[method].bind(factory);
    factory[method] = async (...args) => {
      const adapter = wholeScriptAtOnce(await original(...args));
      opened.push(adapter);
      return adapter;
    };
  }
  const engine = await bindings.SchemaEngine.new({ datamodels }, log, bindMigrationAwareSqlAdapterFactory(factory));
  const close = async () => {
    engine.free();
    await Promise.all(opened.map((a) => a.dispose()));
  };
  return { engine, output, close };
}

// The adapter's own executeScript splits at every `;` (cutting `$$` bodies apart) and runs the pieces
// one by one, so a failing migration stays half-applied. Sent as one simple query instead, Postgres
// runs the script exactly as written and as one implicit transaction, as the native engine does.
function wholeScriptAtOnce(adapter) {
  adapter.executeScript = async (script) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      adapter.onError(error);
    }
  };
  return adapter;
}
