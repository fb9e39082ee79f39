import { defineConfig } from 'vite';
import { servedWithCsp } from './csp.js';

export default defineConfig({
  // Relative asset paths: the built folder works from any path and from a USB stick.
  base: './',
  worker: { format: 'es' },
  plugins: [servedWithCsp()],
  build: { target: 'es2022' },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
