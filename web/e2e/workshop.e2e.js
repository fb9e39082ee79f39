// A workshop from a USB stick: the `cargo xtask demo --dist` copy of the page (AHA_STATIC_DIR, else
// dist/) served by Python's plain http.server. The lessons walk the page; presenter mode enlarges
// it; the same seed and preset give the same metrics twice; a second config (an ablation) is drawn
// over the first run's faded curves. On the CPU backend: deterministic, and faster than SwiftShader.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';

const folder = process.env.AHA_STATIC_DIR ?? new URL('../dist', import.meta.url).pathname;

/** `python3 -m http.server` on a free port; resolves to `{ url, close }` once it listens. */
function servePython(dir) {
  const server = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0', '-d', dir]);
  return new Promise((resolve, reject) => {
    let output = '';
    server.stdout.on('data', (chunk) => {
      output += chunk;
      const port = output.match(/port (\d+)/)?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}/`, close: () => server.kill() });
    });
    server.on('exit', (code) => reject(new Error(`http.server exited (${code}): ${output}`)));
  });
}

let site;
beforeAll(async () => {
  site = await servePython(folder);
});
afterAll(() => site?.close());

const steps = (tab) => tab.locator('#charts').getAttribute('data-steps').then(Number);

/** Trains until at least `n` steps are charted, pauses, and returns the exported run.csv rows. */
async function trainAndExport(tab, n) {
  await tab.click('#train');
  await tab.waitForFunction(
    (want) => Number(document.querySelector('#charts').dataset.steps) >= want || !document.querySelector('#run-error').hidden,
    n,
    { timeout: 280_000, polling: 250 },
  );
  expect(await tab.textContent('#run-error')).toBe('');
  await tab.click('#train');
  await tab.locator('#run-state[data-running="false"]').waitFor({ timeout: 120_000 });
  await tab.click('#export-run');
  const [file] = await Promise.all([tab.waitForEvent('download'), tab.click('#downloads a[download="run.csv"]')]);
  const [header, ...lines] = readFileSync(await file.path(), 'utf8').trim().split('\n');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [header.split(',')[i], value])));
}

/** The first `n` steps' metrics without wall-clock times, which differ from run to run. */
const metricsOf = (rows, n) =>
  rows
    .filter((row) => Number(row.x) < n)
    .map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !key.endsWith('_ms'))));

describe('a workshop from a static folder', () => {
  it('walks the lessons, repeats a seeded run exactly, and overlays an ablation', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await browser.context.newPage();
      await tab.goto(`${site.url}#preset=tiny&backend=cpu`);
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });

      // Lessons: every step names its place on the page and highlights exactly that.
      await tab.click('#lessons-toggle');
      const total = Number((await tab.textContent('#lesson-count')).split(' / ')[1]);
      expect(total).toBeGreaterThanOrEqual(5);
      for (let i = 1; i <= total; i += 1) {
        expect(await tab.textContent('#lesson-count')).toBe(`${i} / ${total}`);
        expect((await tab.textContent('#lesson-text')).length).toBeGreaterThan(60);
        expect(await tab.locator('.lesson-focus').count()).toBe(1);
        if (i < total) await tab.click('#lesson-next');
      }
      expect(await tab.isDisabled('#lesson-next')).toBe(true);
      await tab.click('#lessons-toggle');
      expect(await tab.locator('.lesson-focus').count()).toBe(0);

      // Presenter mode: bigger type, the file panel out of the way; and back.
      await tab.click('#presenter');
      expect(await tab.isHidden('#files-panel')).toBe(true);
      expect(await tab.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize))).toBeGreaterThan(20);
      await tab.click('#presenter');
      expect(await tab.isVisible('#files-panel')).toBe(true);

      // Reproducible: the same preset and seed, run twice from the base model, give the same metrics.
      const first = await trainAndExport(tab, 5);
      await tab.click('#reset');
      await tab.waitForFunction(() => document.querySelector('#charts').dataset.steps === '0', null, { timeout: 120_000 });
      const second = await trainAndExport(tab, 5);
      expect(metricsOf(first, 5).length).toBe(5);
      expect(metricsOf(second, 5)).toEqual(metricsOf(first, 5));

      // Ablation overlay: another loss type; the previous run stays on the charts, faded.
      await tab.selectOption('#knobs [name="loss_type"]', 'dr_grpo');
      await tab.click('#reset');
      await tab.waitForFunction(() => location.hash.includes('loss_type=dr_grpo'), null, { timeout: 120_000 });
      expect(await tab.textContent('#comparison')).toMatch(/^Faded curves: the previous run \(tiny · \d+ steps\)\.$/);
      await trainAndExport(tab, 2);
      const legend = tab.locator('#chart-reward .u-legend .u-series', { hasText: 'reward · previous run' });
      expect(await legend.count()).toBe(1);
      expect(await legend.getAttribute('class')).not.toContain('u-off');
      await tab.click('#overlay');
      expect(await tab.isHidden('#comparison')).toBe(true);

      expect(browser.consoleErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  }, 900_000);
});
