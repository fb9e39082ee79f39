// The page starts its Worker, the Worker starts the wasm backend, and the page says which one.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP, WORKER_CSP, isWorkerScript } from '../csp.js';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

async function backendLine(browser, hash = '') {
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl(hash));
  const line = tab.locator('#backend');
  await line.and(tab.locator(':not([data-state="starting"])')).waitFor({ timeout: 240_000 });
  return { tab, text: await line.textContent(), state: await line.getAttribute('data-state') };
}

describe('backend line', () => {
  it('leaves a software adapter for the CPU, and says why', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      // Chromium here offers WebGPU only through SwiftShader, a fallback adapter.
      const { text, state } = await backendLine(browser);
      expect(state, text).toBe('cpu');
      expect(text).toMatch(/^Backend: CPU \(WebAssembly\) — the only WebGPU adapter is a software fallback \(.+\)/);
      expect(text).toContain('#backend=webgpu');
      expect(text).toContain('self-test passed');
      expect(browser.consoleErrors).toEqual([]);
    });
  });

  it('measures the adapter against the CPU when the address asks, keeps the faster and says both times', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const { text, state } = await backendLine(browser, '#backend=measure');
      const times = text.match(/a test step took (\d+) ms on WebGPU and (\d+) ms on the CPU/);
      expect(times, text).not.toBeNull();
      const [gpuMs, cpuMs] = [Number(times[1]), Number(times[2])];
      expect(text).toContain('measured faster at load');
      if (gpuMs !== cpuMs) expect(state, text).toBe(cpuMs < gpuMs ? 'cpu' : 'webgpu');
      expect(text).toContain('self-test passed');
      expect(browser.consoleErrors).toEqual([]);
    });
  });

  it('uses the WebGPU adapter when the address asks for it, even a software one', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const { tab, text, state } = await backendLine(browser, '#backend=webgpu');
      mkdirSync('test-results', { recursive: true });
      await tab.screenshot({ path: 'test-results/backend-webgpu.png' });
      expect(state, text).toBe('webgpu');
      expect(text).toMatch(/^Backend: WebGPU/);
      expect(text).toContain('self-test passed');
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  });

  it('falls back to the CPU, with the reason, when there is no adapter', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const { text, state } = await backendLine(browser);
      expect(state, text).toBe('cpu');
      expect(text).toMatch(/^Backend: CPU \(WebAssembly\) — .*WebGPU/);
      expect(text).toContain('self-test passed');
      expect(browser.foreignRequests).toEqual([]);
    });
  });

  it('uses the CPU when the address asks for it; the page and its Worker each carry their policy', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const policies = new Map();
      browser.context.on('response', async (response) => {
        const { pathname } = new URL(response.url());
        policies.set(pathname, (await response.allHeaders())['content-security-policy'] ?? null);
      });
      const { text, state } = await backendLine(browser, '#backend=cpu');
      expect(state, text).toBe('cpu');
      expect(text).toContain('CPU requested');
      expect(browser.consoleErrors).toEqual([]);
      // A meta tag cannot reach a Worker: its policy must come with its own response (issue #23).
      const page = policies.get('/');
      const [workerPath, worker] = [...policies].find(([path]) => isWorkerScript(path)) ?? [];
      console.log(`page: ${page}\nworker ${workerPath}: ${worker}`);
      expect(page).toBe(PAGE_CSP);
      expect(worker).toBe(WORKER_CSP);
    });
  });
});
