// Shared end-to-end plumbing: serve dist/ on 127.0.0.1, launch Debian's Chromium headless through
// playwright-core, and record console errors and every request that leaves 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Serves the built page (run `npm run build` first) and returns `{ url, close }`. */
export async function servePage() {
  const server = await preview({
    root: new URL('..', import.meta.url).pathname,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls.local[0];
  return { url, close: () => server.close() };
}

/** Launches headless Chromium; `webgpu` adds `--enable-unsafe-webgpu` (SwiftShader here). */
export async function launch({ webgpu }) {
  const profile = mkdtempSync(join(tmpdir(), 'aha-e2e-'));
  const args = [
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    // Draw 2D canvases (uPlot) in the renderer: with SwiftShader the GPU process also runs the
    // Worker's WebGPU compute on the CPU, and a canvas waiting behind a long dispatch shows up as a
    // main-thread long task that no page code caused (one of 569 ms was seen on an idle machine).
    '--disable-accelerated-2d-canvas',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    // The page speaks the browser's language: the tests read its English unless a link asks for
    // another (`#lang=zh`), whatever the machine's locale.
    locale: 'en-US',
  });
  const consoleErrors = [];
  const foreignRequests = [];
  context.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  context.on('weberror', (error) => consoleErrors.push(String(error.error())));
  context.on('response', (response) => {
    if (response.status() >= 400) consoleErrors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  context.on('request', (request) => {
    const { protocol, hostname } = new URL(request.url());
    const local = hostname === '127.0.0.1' || protocol === 'data:' || protocol === 'blob:';
    if (!local) foreignRequests.push(request.url());
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, consoleErrors, foreignRequests, close };
}

/**
 * Runs `body(browser)` in a fresh headless Chromium (`launch`) and closes it whether or not the
 * body throws, so a failed test leaves no browser behind.
 */
export async function inBrowser(options, body) {
  const browser = await launch(options);
  try {
    return await body(browser);
  } finally {
    await browser.close();
  }
}

/**
 * For the scripts that run the page at full length: serves it, opens `hash` in a fresh headless
 * Chromium (SwiftShader's WebGPU unless the hash asks for the CPU) and runs `body(tab)` in it,
 * recording the Worker's messages of `kinds` as the page receives them (`window.workerLog`,
 * `{at, ...message}`). Closes both whether or not the body throws.
 */
export async function atFullLength(hash, kinds, body) {
  const page = await servePage();
  const browser = await launch({ webgpu: !hash.includes('backend=cpu') });
  try {
    const tab = await browser.context.newPage();
    await tab.addInitScript((wanted) => {
      window.workerLog = [];
      const Original = window.Worker;
      window.Worker = class extends Original {
        constructor(...args) {
          super(...args);
          this.addEventListener('message', ({ data }) => {
            if (wanted.includes(data.kind)) window.workerLog.push({ at: performance.now(), ...data });
          });
        }
      };
    }, kinds);
    await tab.goto(page.url + hash);
    return await body(tab);
  } finally {
    await browser.close();
    page.close();
  }
}
