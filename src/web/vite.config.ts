// Vite build of the browser app: src/web -> dist/web (served by the signal server, SPA fallback to index.html).
import { fileURLToPath } from 'node:url';
import { copyFileSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Background blur's segmentation (@mediapipe/selfie_segmentation: a script, its WebAssembly and models) is served
 * from this server as the package ships it, under /vendor/selfie-segmentation/ (background-effect.ts loads it there).
 */
function vendorSelfieSegmentation(): Plugin {
  return {
    name: 'tertulia-vendor-selfie-segmentation',
    apply: 'build',
    writeBundle(options) {
      const from = path.resolve(root, '../../node_modules/@mediapipe/selfie_segmentation');
      const to = path.join(options.dir!, 'vendor', 'selfie-segmentation');
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from)) if (/\.(js|wasm|tflite|binarypb|data)$/.test(f)) copyFileSync(path.join(from, f), path.join(to, f));
    },
  };
}

/**
 * The whiteboard's fonts (@excalidraw/excalidraw's dist/prod/fonts) are served from this server, under
 * /vendor/excalidraw/fonts/ (board/BoardPanels.tsx sets window.EXCALIDRAW_ASSET_PATH there): no CDN at run time.
 */
function vendorExcalidrawFonts(): Plugin {
  return {
    name: 'tertulia-vendor-excalidraw-fonts',
    apply: 'build',
    writeBundle(options) {
      const from = path.resolve(root, '../../node_modules/@excalidraw/excalidraw/dist/prod/fonts');
      cpSync(from, path.join(options.dir!, 'vendor', 'excalidraw', 'fonts'), { recursive: true });
    },
  };
}

/**
 * Excalidraw adds a CDN (esm.sh) after EXCALIDRAW_ASSET_PATH in every font's source list, and Chromium checks the
 * page's CSP for every source when the font is made (a violation report per font, per page): the fallback is
 * pointed at this server's copy too. The build fails if Excalidraw's code no longer has the expected form.
 */
function excalidrawNoCdn(): Plugin {
  const fallback = /`https:\/\/esm\.sh\/\$\{\w+\.PKG_NAME\?`\$\{\w+\.PKG_NAME\}@\$\{\w+\.PKG_VERSION\}`:"@excalidraw\/excalidraw"\}\/dist\/prod\/`/;
  return {
    name: 'tertulia-excalidraw-no-cdn',
    apply: 'build',
    transform(code, id) {
      if (!id.includes('@excalidraw/excalidraw/dist/prod/') || !code.includes('esm.sh')) return null;
      if (!fallback.test(code)) throw new Error(`${id}: Excalidraw's font fallback (esm.sh) has a new form; update excalidrawNoCdn in vite.config.ts`);
      return { code: code.replace(fallback, 'window.location.origin+"/vendor/excalidraw/"'), map: null };
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [react(), vendorSelfieSegmentation(), vendorExcalidrawFonts(), excalidrawNoCdn()],
  // the noise suppression worklet keeps import.meta (its WebAssembly module is inlined)
  worker: { format: 'es' },
  build: {
    outDir: path.resolve(root, '../../dist/web'),
    emptyOutDir: true,
    // maps are made but not named in the files: the server serves them (and names them in a SourceMap header)
    // only with serveSourceMaps on
    sourcemap: 'hidden',
    target: 'es2022',
    // the large chunks are loaded only when used (the whiteboard's Excalidraw and the diagram and math libraries it
    // brings, ~1.8 MB at most); the entry chunk is ~540 kB (~160 kB compressed). Bundler advice about them at every
    // first start told an admin nothing to act on.
    chunkSizeWarningLimit: 2048,
  },
});
