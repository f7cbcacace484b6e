// Vite build of the browser app: src/web -> dist/web (served by the signal server, SPA fallback to index.html).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.resolve(root, '../../dist/web'),
    emptyOutDir: true,
    // maps are made but not named in the files: the server serves them (and names them in a SourceMap header)
    // only with serveSourceMaps on
    sourcemap: 'hidden',
    target: 'es2022',
  },
});
