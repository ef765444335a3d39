// Lets `node -r ./bench/register.js bench/metering.ts` run TypeScript: .ts files outside
// node_modules are compiled on require with @swc/core (types stripped, nothing checked).
const Module = require('node:module');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

Module._extensions['.ts'] = function compileTs(module, filename) {
  if (filename.includes('/node_modules/')) throw new Error(`register.js: not compiling ${filename}`);
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
