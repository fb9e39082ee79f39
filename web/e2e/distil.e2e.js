// Distillation in the page, end to end at tiny sizes on the CPU backend: the tiny run's model (two
// GRPO steps in) teaches the shipped student; the teacher's answers are listed as they are kept or
// dropped, both student arms are charted (the own GRPO run as the faded overlay), and the distilled
// student exports as files Aha imports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

describe('distillation on the page', () => {
  it('distils the run into the student beside its own GRPO run, and exports it', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await browser.context.newPage();
      const problems = [];
      tab.on('console', (message) => {
        if (/panicked|RuntimeError/.test(message.text())) problems.push(message.text());
      });
      await tab.goto(pageUrl('#preset=tiny&backend=cpu'));
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      expect(await tab.isDisabled('#distil-export')).toBe(true);

      // A bad option is refused by name and starts nothing.
      await tab.fill('#distil-steps', '0');
      await tab.click('#distil-start');
      expect(await tab.textContent('#distil-error')).toContain('student updates must be a whole number from 1 to 1200');
      expect(await tab.getAttribute('#distil-state', 'data-state')).toBe('idle');

      // An untrained teacher (the base model) may teach, with a warning saying what it is.
      await tab.fill('#distil-problems', '8');
      await tab.fill('#distil-steps', '1');
      await tab.click('#distil-start');
      await tab.locator('#distil-state[data-state="done"], #distil-error:not([hidden])').first().waitFor({ timeout: 300_000 });
      expect(await tab.textContent('#distil-warning')).toMatch(/^The teacher has not been trained yet: it is the base model/);

      for (let i = 0; i < 2; i += 1) {
        await tab.click('#step');
        await tab.locator(`#run-state[data-steps="${i + 1}"][data-running="false"]`).waitFor({ timeout: 120_000 });
      }

      // 24 problems: two batches of teacher answers; 6 updates per arm (tiny: measured at 5 and at the end).
      await tab.fill('#distil-problems', '24');
      await tab.fill('#distil-steps', '6');
      await tab.click('#distil-start');
      await tab.locator('#distil-state[data-state="done"], #distil-error:not([hidden])').first().waitFor({ timeout: 300_000 });
      expect(await tab.textContent('#distil-error')).toBe('');
      expect(await tab.isHidden('#distil-warning')).toBe(true);
      const state = await tab.textContent('#distil-state');
      expect(state).toMatch(/^Done: 6 of 6 updates of each student arm \(47,136 parameters\); the teacher kept \d+ of 48 answers/);

      // All 48 answers listed as kept or dropped; a kept one ends in the right product.
      const answers = await tab.$$eval('#distil-answers li', (items) => items.map((li) => ({ text: li.textContent, kept: li.dataset.kept })));
      expect(answers.length).toBe(40); // the list keeps the newest 40
      const keptTotal = Number(await tab.getAttribute('#distil-state', 'data-kept'));
      expect(keptTotal).toBeGreaterThan(0);
      const product = (text) => {
        const [, a, b, answer] = text.match(/^(\d{3})\*(\d)=.*a(\d+)\.$/) ?? [];
        return answer !== undefined && Number(a) * Number(b) === Number(answer);
      };
      for (const { text } of answers.filter((a) => a.kept === 'true')) expect(product(text), text).toBe(true);
      // This teacher, two steps from the base model, is wrong often: dropped answers are listed too.
      expect(answers.filter((a) => a.kept === 'false').length).toBeGreaterThan(0);

      // Base (step 0), step 5 and step 6 on both arms' charts; the own GRPO run drawn as the overlay.
      await tab.locator('#distil-charts[data-evaluations="3"]').waitFor({ timeout: 30_000 });
      for (const chart of ['#chart-distil-accuracy', '#chart-distil-behaviour']) {
        expect(await tab.getAttribute(chart, 'data-comparing')).toBe('true');
      }
      expect(await tab.textContent('#chart-distil-accuracy')).toContain('sampled · own GRPO');

      // The distilled student exports as Aha's four model files.
      await tab.click('#distil-export');
      await tab.locator('#distil-downloads a[download="model.bpk"]').waitFor({ timeout: 60_000 });
      const [file] = await Promise.all([tab.waitForEvent('download'), tab.click('#distil-downloads a[download="config.json"]')]);
      const config = JSON.parse(readFileSync(await file.path(), 'utf8'));
      const shipped = JSON.parse(readFileSync(new URL('../public/student-model/config.json', import.meta.url), 'utf8'));
      expect(config).toEqual(shipped);

      // The teacher's run is as it was: it still steps.
      await tab.click('#step');
      await tab.locator('#run-state[data-steps="3"][data-running="false"]').waitFor({ timeout: 120_000 });
      expect(problems).toEqual([]);
    });
  });
});
