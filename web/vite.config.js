import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset paths: the built folder works from any path and from a USB stick.
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022' },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
