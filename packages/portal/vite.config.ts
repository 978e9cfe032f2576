import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The portal is served by the smartlic server from dist/ (no dev server in production). `npx vite`
// in this folder proxies the REST API to SMARTLIC_SERVER for development.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': process.env.SMARTLIC_SERVER ?? 'http://127.0.0.1:8443' } },
});
