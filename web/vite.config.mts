import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/web, which the Marquee server serves at `/`. In `npm run dev:web` the API is
// proxied from MARQUEE_API_ORIGIN (default http://127.0.0.1:4000).
const api = process.env.MARQUEE_API_ORIGIN ?? 'http://127.0.0.1:4000';
const proxy = { '/graphql': api, '/posters': api };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
  },
  server: { host: '127.0.0.1', proxy },
  preview: { host: '127.0.0.1', proxy },
});
