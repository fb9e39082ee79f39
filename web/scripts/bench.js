// The page's bench panel, run headless: load the built page, press Train as soon as the model is
// ready, let `steps` GRPO steps finish, pause, open the panel and write its figures as JSON. While
// the run goes, the figures so far are written after each step (`"partial": true`), so a long
// soak that is stopped early keeps what it measured.
// `cargo xtask bench --browser` runs it on the release build. Usage (after `npm run build`):
//   node scripts/bench.js [hash] [steps] [out.json] [profile] [until-aha]
// With `until-aha`, `steps` is a limit: the run stops at the first held-out evaluation whose
// check rate passes 0.5 (the bench panel's time to aha), and fails if it never comes.
import { writeFileSync } from 'node:fs';
import { launch, servePage } from '../e2e/harness.js';

const [hash = '#preset=default', stepsArg = '3', out = 'test-results/bench-browser.json', profile = 'unknown', mode = ''] =
  process.argv.slice(2);
const untilAha = mode === 'until-aha';
const steps = Number(stepsArg);
if (!Number.isSafeInteger(steps) || steps < 1) {
  console.error(`steps must be a whole number ≥ 1, got ${JSON.stringify(stepsArg)}`);
  process.exit(2);
}

const page = await servePage();
const browser = await launch({ webgpu: !hash.includes('backend=cpu') });
let failed = false;
try {
  const tab = await browser.context.newPage();
  await tab.goto(page.url + hash);
  // Click waits until the button is enabled: the model is loaded and the backend is up.
  await tab.click('#train', { timeout: 600_000 });
  let written = 0;
  for (;;) {
    const state = await tab.evaluate(() => ({
      done: Number(document.querySelector('#charts').dataset.steps),
      failed: !document.querySelector('#run-error').hidden,
      summary: document.querySelector('#bench-table').dataset.summary ?? null,
    }));
    if (state.failed || state.done >= steps) break;
    // Before the first step the panel's figures hold no aha fields at all: only a number counts.
    if (untilAha && state.summary !== null && typeof JSON.parse(state.summary).time_to_aha_s === 'number') break;
    if (state.summary !== null && state.done > written) {
      const { download: _, ...figures } = JSON.parse(state.summary);
      const progress = { page: hash, profile, partial: true, steps_done: state.done, ...figures };
      writeFileSync(out, `${JSON.stringify(progress, null, 2)}\n`);
      written = state.done;
    }
    await tab.waitForTimeout(1000);
  }
  const error = await tab.textContent('#run-error');
  if (error !== '') throw new Error(`the run failed: ${error}`);
  const line = tab.locator('#backend');
  await tab.click('#train'); // pause
  await tab.locator('#run-state[data-running="false"]').waitFor({ timeout: 600_000 });
  await tab.click('#bench summary');
  // The download row, or the panel's error (a failed measurement) — not a wait for a row that will
  // never come.
  const downloaded = tab.locator('#bench-table th', { hasText: 'wasm download' });
  await downloaded.or(tab.locator('#bench-error:not([hidden])')).first().waitFor({ timeout: 600_000 });
  if (!(await downloaded.isVisible())) throw new Error(`the bench panel failed: ${await tab.textContent('#bench-error')}`);
  const { download, ...figures } = JSON.parse(await tab.getAttribute('#bench-table', 'data-summary'));
  const report = {
    page: hash,
    profile,
    backend: (await tab.textContent('#backend')).replace(/^Backend: /, ''),
    backend_kind: await line.getAttribute('data-state'),
    simd128: (await line.getAttribute('data-simd')) === 'true',
    cpu_threads: Number(await line.getAttribute('data-threads')),
    cores: await tab.evaluate(() => navigator.hardwareConcurrency),
    ...figures,
    wasm_raw_bytes: download.raw_bytes,
    wasm_gzip_bytes: download.gzip_bytes,
    browser: await tab.evaluate(() => navigator.userAgent),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  if (untilAha && report.time_to_aha_s === null) throw new Error(`no held-out check rate over 0.5 within ${steps} steps`);
  if (browser.consoleErrors.length > 0) console.log('console errors:', browser.consoleErrors);
} catch (error) {
  console.error(String(error?.stack ?? error));
  failed = true;
} finally {
  await browser.close();
  await page.close();
}
process.exit(failed ? 1 : 0);
