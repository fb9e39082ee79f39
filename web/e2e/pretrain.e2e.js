// Making a base model in the page (issue #26): a shortened schedule of the shipped base model's
// recipe on the CPU backend, its loss charted step by step, whether checking pays measured on the
// held-out set, then GRPO trains it and its files are offered for download.
import { describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

describe('a base model made in the page', () => {
  it('walks every stage of a short schedule, says whether checking pays, then GRPO trains it', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await browser.context.newPage();
      await tab.goto(pageUrl('#preset=tiny&backend=cpu'));
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });

      // A bad step count is refused by name and nothing starts.
      await tab.fill('#pretrain-steps', '2');
      await tab.click('#pretrain-start');
      expect(await tab.textContent('#pretrain-error')).toBe('steps must be a whole number from 3 to 2600, got "2"');
      expect(await tab.getAttribute('#pretrain-state', 'data-state')).toBe('idle');

      await tab.fill('#pretrain-steps', '6');
      await tab.click('#pretrain-start');
      await tab.locator('#pretrain-state[data-state="done"]').waitFor({ timeout: 240_000 });
      expect(await tab.isHidden('#pretrain-error')).toBe(true);
      expect(await tab.textContent('#pretrain-state')).toMatch(/^Made in \d+ s: 6 steps, loss \d\.\d{3}\. Train it with GRPO to keep it/);
      // One point per step on the loss chart.
      await tab.waitForFunction(() => document.querySelector('#pretrain-charts').dataset.steps === '6', null, { timeout: 10_000 });
      expect(await tab.textContent('#pretrain-gap')).toMatch(
        /^Forced to check, it answered \d+% right; forced to answer, \d+% \(greedy; its guess alone \d+%\)\. Sampled: \d+% against \d+%\. Checking (pays by 10 points or more|does not pay by 10 points)/,
      );

      // Its files, as an export gives them.
      await tab.click('#pretrain-export');
      await tab.locator('#pretrain-downloads a').nth(3).waitFor({ timeout: 60_000 });
      const names = await tab.locator('#pretrain-downloads a').allTextContents();
      expect(names).toEqual(['model.safetensors', 'model.bpk', 'config.json', 'tokenizer.json']);

      // GRPO from it: the run on show is the made model's, saved at once (its only copy), and it
      // steps.
      await tab.click('#pretrain-use');
      await tab.waitForFunction(() => /^Base model made in this page loaded: [\d,]+ parameters$/.test(document.querySelector('#model').textContent), null, {
        timeout: 60_000,
      });
      await tab.locator('#saved[data-steps="0"]').waitFor({ timeout: 60_000 });
      expect(await tab.textContent('#saved')).toMatch(/^Saved on this machine at step 0 /);
      await tab.click('#step');
      await tab.waitForFunction(() => Number(document.querySelector('#charts').dataset.steps) >= 1, null, { timeout: 240_000 });
      expect(await tab.textContent('#run-state')).toBe('tiny run · 1 step · paused');

      // The made model outlives the tab: after a reload its run is listed and resumes.
      await tab.locator('#saved[data-steps="1"]').waitFor({ timeout: 60_000 });
      await tab.reload();
      const listed = tab.locator('#saved-list li', { hasText: 'Base model made in this page, 1 step, saved' });
      await listed.waitFor({ timeout: 240_000 });
      await listed.locator('.resume-run').click();
      await tab.waitForFunction(() => /^Saved run resumed at step 1: /.test(document.querySelector('#model').textContent), null, { timeout: 120_000 });
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  });
});
