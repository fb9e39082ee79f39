import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_CSP } from '../csp.js';

const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');

describe('the page', () => {
  it('has Content-Security-Policies (page and Worker) that allow only its own origin', () => {
    const meta = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/)?.[1];
    expect(meta).toBeDefined();
    for (const policy of [meta, WORKER_CSP]) {
      const directives = Object.fromEntries(
        policy.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name, sources]),
      );
      expect(directives['default-src']).toEqual(["'self'"]);
      expect(directives['connect-src']).toEqual(["'self'"]);
      // Nothing may name another host: only 'self', 'none', wasm compilation, data/blob images.
      const allowed = new Set(["'self'", "'none'", "'wasm-unsafe-eval'", 'data:', 'blob:']);
      for (const [name, sources] of Object.entries(directives)) {
        for (const source of sources) expect(allowed.has(source), `${name} allows ${source}`).toBe(true);
      }
    }
  });

  it('loads no script, style or image from another origin', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
