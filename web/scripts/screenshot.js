// Trains a preset on the built page in headless Chromium and saves a screenshot: how README's
// picture of a real run is made. Usage (after `npm run build`):
//   node scripts/screenshot.js [hash] [steps] [out.png]
// e.g. node scripts/screenshot.js '#preset=default&backend=cpu' 150 ../docs/page.png
import { launch, servePage } from '../e2e/harness.js';

const [hash = '#preset=tiny', steps = '3', out = 'test-results/page.png'] = process.argv.slice(2);
const page = await servePage();
const browser = await launch({ webgpu: !hash.includes('backend=cpu') });
try {
  const tab = await browser.context.newPage();
  await tab.setViewportSize({ width: 1400, height: 1000 });
  const started = Date.now();
  await tab.goto(page.url + hash);
  await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 600_000 });
  await tab.click('#train');
  await tab.waitForFunction((n) => Number(document.querySelector('#charts').dataset.steps) >= n, Number(steps), {
    timeout: 0,
    polling: 1000,
  });
  await tab.click('#train');
  await tab.locator('#run-state[data-running="false"]').waitFor({ timeout: 600_000 });
  await tab.screenshot({ path: out, fullPage: true });
  console.log(`${steps} steps of ${hash} in ${Math.round((Date.now() - started) / 1000)} s → ${out}`);
  if (browser.consoleErrors.length > 0) console.log('console errors:', browser.consoleErrors);
} finally {
  await browser.close();
  await page.close();
}
