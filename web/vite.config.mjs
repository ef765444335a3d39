import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Served by Tollgate at /dashboard from web/dist; everything bundled, nothing fetched from elsewhere.
export default defineConfig({
  root: import.meta.dirname,
  base: '/dashboard/',
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, reportCompressedSize: false },
});
