// Vite build of Jitsi's IFrame API for host pages: src/web/external-api -> dist/web/external_api.js, one classic
// script (no modules, no React) defining the global JitsiMeetExternalAPI. Runs after the app's build, which
// empties dist/web.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  build: {
    outDir: path.resolve(root, '../../../dist/web'),
    emptyOutDir: false,
    sourcemap: 'hidden',
    target: 'es2020',
    lib: {
      entry: path.resolve(root, 'index.ts'),
      name: 'JitsiMeetExternalAPI',
      formats: ['iife'],
      fileName: () => 'external_api.js',
    },
  },
});
