import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP, WORKER_CSP, isWorkerScript } from '../csp.js';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('content security policy', () => {
  it('gives WebAssembly to the Worker only', () => {
    expect(WORKER_CSP).toContain("'wasm-unsafe-eval'");
    expect(PAGE_CSP).not.toContain('wasm-unsafe-eval');
    for (const directive of ["base-uri 'none'", "object-src 'none'", "connect-src 'self'"]) {
      expect(PAGE_CSP).toContain(directive);
      expect(WORKER_CSP).toContain(directive);
    }
    expect(PAGE_CSP).toContain("form-action 'none'");
  });

  it('says the same in index.html and public/_headers', () => {
    const meta = read('../index.html').match(/http-equiv="Content-Security-Policy"\s+content="([^"]*)"/)[1];
    expect(meta).toBe(PAGE_CSP);
    const headers = read('../public/_headers')
      .split('\n')
      .filter((line) => line.trim().startsWith('Content-Security-Policy:'))
      .map((line) => line.trim().slice('Content-Security-Policy:'.length).trim());
    expect(headers).toEqual([PAGE_CSP, WORKER_CSP]);
  });

  it('knows the built Worker script by its name', () => {
    expect(isWorkerScript('/assets/worker-Bx3k9_aZ.js')).toBe(true);
    expect(isWorkerScript('/assets/worker-Bx3k9_aZ.js?v=1')).toBe(true);
    expect(isWorkerScript('/assets/index-Bx3k9_aZ.js')).toBe(false);
    expect(isWorkerScript('/')).toBe(false);
  });
});
