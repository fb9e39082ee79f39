// The Content-Security-Policy the page and its Worker are served with (`cargo xtask demo`, the e2e
// tests; `public/_headers` says the same for static hosts that read it). A meta tag in index.html
// repeats the page's policy for servers that send none, but it cannot reach the Worker: a Worker's
// policy comes only from its own response headers.
//
// Only the Worker compiles WebAssembly, so only it gets 'wasm-unsafe-eval'.
const common = ["default-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'"];
export const PAGE_CSP = [...common, "script-src 'self'", "worker-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "form-action 'none'"].join('; ');
export const WORKER_CSP = [...common, "script-src 'self' 'wasm-unsafe-eval'"].join('; ');

/** Whether `path` (a URL path) is the built Worker's script, which Vite names assets/worker-<hash>.js. */
export const isWorkerScript = (path) => /\/assets\/worker-[^/?]*\.js(\?.*)?$/.test(path);

/** A Vite plugin: every response of `vite preview` carries its policy. */
export function servedWithCsp() {
  return {
    name: 'aha-csp-headers',
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        response.setHeader('Content-Security-Policy', isWorkerScript(request.url ?? '') ? WORKER_CSP : PAGE_CSP);
        next();
      });
    },
  };
}
