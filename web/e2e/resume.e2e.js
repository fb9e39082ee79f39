// A run survives a lost GPU and a reload: the Worker saves it to IndexedDB (after a single step,
// on pause, every 10 steps); when the WebGPU device is destroyed in the middle of a step the page
// offers to resume that run in a fresh Worker, and after a reload it lists the saved run. No metric
// row up to the save is lost.
import { describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

const steps = (tab) => tab.locator('#charts').getAttribute('data-steps').then(Number);
/** Waits until the views show `count` steps: they redraw a part per frame, the step count last. */
const drawn = (tab, count) => tab.locator(`#charts[data-steps="${count}"]`).waitFor({ timeout: 10_000 });
/** The step numbers of the latest group and the charts, as the page shows them. */
const shown = async (tab) => ({ steps: await steps(tab), group: await tab.textContent('#group-heading') });

/** The tiny preset's page on the (software) WebGPU adapter, its run ready. */
async function openOnWebgpu(browser) {
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl('#preset=tiny&backend=webgpu'));
  await tab.locator('#backend[data-state="webgpu"]').waitFor({ timeout: 240_000 });
  await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
  return tab;
}

describe('saving and resuming a run', () => {
  it('resumes after the GPU is lost mid-step, and after a reload', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const tab = await openOnWebgpu(browser);
      expect(await tab.isHidden('#resume-offer')).toBe(true);
      expect(await tab.isHidden('#saved-runs')).toBe(true); // a fresh profile has nothing saved

      // One step, saved as soon as it is done.
      await tab.click('#step');
      await tab.locator('#saved[data-steps="1"]').waitFor({ timeout: 400_000 });
      await drawn(tab, 1);
      const afterOne = await shown(tab);

      // Train on, and lose the GPU while the next step computes.
      await tab.click('#train');
      await tab.locator('#run-state[data-running="true"]').waitFor({ timeout: 60_000 });
      await tab.click('#bench summary');
      await tab.click('#lose-device');
      await tab.locator('#resume-offer:not([hidden])').waitFor({ timeout: 300_000 });
      const offer = await tab.textContent('#resume-text');
      console.log(`after the loss: ${offer}`);
      expect(offer).toContain('The GPU was lost');
      expect(offer).toContain('Resume from the save at step 1');
      expect(await steps(tab)).toBe(1); // the step under way never finished
      expect(await tab.isDisabled('#train')).toBe(true);

      // Resume: a fresh Worker and device, the run as saved, every row and view back.
      await tab.click('#resume');
      await tab.waitForFunction(() => document.querySelector('#model').textContent.startsWith('Saved run resumed at step 1'), null, {
        timeout: 300_000,
      });
      expect(await tab.getAttribute('#backend', 'data-state')).toBe('webgpu');
      await drawn(tab, 1);
      expect(await shown(tab)).toEqual(afterOne);
      expect(await tab.isHidden('#resume-offer')).toBe(true);
      expect(await tab.textContent('#run-error')).toBe('');

      // It trains on in the new Worker.
      await tab.click('#step');
      await tab.locator('#saved[data-steps="2"]').waitFor({ timeout: 400_000 });
      await drawn(tab, 2);
      const afterTwo = await shown(tab);
      expect(afterTwo.steps).toBe(2);
      expect(afterTwo.group).toMatch(/^Step 1: /);

      // A reload lists the saved run beside the fresh one from the link, and resumes it whole.
      await tab.reload();
      await tab.locator('#saved-list li').waitFor({ timeout: 300_000 });
      expect(await tab.textContent('#saved-list li span')).toMatch(/^tiny, 2 steps, saved /);
      expect(await tab.isHidden('#resume-offer')).toBe(true);
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      expect(await steps(tab)).toBe(0);
      await tab.click('#saved-list .resume-run');
      await tab.waitForFunction(() => document.querySelector('#model').textContent.startsWith('Saved run resumed at step 2'), null, {
        timeout: 300_000,
      });
      await drawn(tab, 2);
      expect(await shown(tab)).toEqual(afterTwo);
      expect(await tab.textContent('#run-state')).toContain('2 steps');

      // The console may carry the lost device's own reports, and nothing else.
      console.log(`console errors: ${JSON.stringify(browser.consoleErrors)}`);
      const unrelated = browser.consoleErrors.filter((text) => !/lost|destroy|poison/i.test(text));
      expect(unrelated).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  }, 1_500_000);

  it('starts a fresh Worker on Reset when the GPU is lost before anything was saved', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const tab = await openOnWebgpu(browser);
      await tab.click('#bench summary');
      await tab.click('#lose-device');
      await tab.click('#step'); // the first computation finds the device gone
      await tab.locator('#run-error:not([hidden])').waitFor({ timeout: 300_000 });
      expect(await tab.textContent('#run-error')).toMatch(/^The GPU was lost \(.*\) before this run was saved: reset to start again\.$/);
      await tab.click('#reset');
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 300_000 });
      expect(await tab.getAttribute('#backend', 'data-state')).toBe('webgpu');
      await tab.click('#step');
      await tab.locator('#saved[data-steps="1"]').waitFor({ timeout: 400_000 });
      await drawn(tab, 1);
      expect(await tab.isHidden('#run-error')).toBe(true);
      const unrelated = browser.consoleErrors.filter((text) => !/lost|destroy|poison/i.test(text));
      expect(unrelated).toEqual([]);
    });
  }, 1_200_000);
});
