// Saved runs on one machine: each run keeps its own record, two tabs never write over each other,
// a fresh run never replaces the run the page offered, and a resume of a run that is gone says so.
// CPU backend, tiny preset: these are about storage, not compute.
import { describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();
const LINK = '#preset=tiny&backend=cpu';

/** Opens the page in a new tab and waits for its fresh run. */
async function openTab(browser) {
  const tab = await browser.context.newPage();
  await tab.goto(pageUrl(LINK));
  await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
  return tab;
}

/** One Single step, and its save. */
async function stepAndSave(tab, steps = 1) {
  await tab.click('#step');
  await tab.locator(`#saved[data-steps="${steps}"]`).waitFor({ timeout: 240_000 });
}

/** The saved runs a tab lists: `[{id, text, resumable}]`. */
function listed(tab) {
  return tab.$$eval('#saved-list li', (items) =>
    items.map((item) => ({ id: item.dataset.run, text: item.querySelector('span').textContent, resumable: !item.querySelector('.resume-run')?.disabled })),
  );
}

/** Waits until the tab lists `count` saved runs. */
const listedCount = (tab, count) => tab.waitForFunction((n) => document.querySelectorAll('#saved-list li').length === n, count, { timeout: 120_000 });

/** A tab whose run made one saved step, then reloaded: its fresh run on show, the saved one listed. */
async function savedThenReloaded(browser) {
  const tab = await openTab(browser);
  await stepAndSave(tab);
  await tab.reload();
  await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
  await listedCount(tab, 1);
  return tab;
}

describe('saved runs', () => {
  it('keeps both runs of two tabs on the same preset, across a reload', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const first = await openTab(browser);
      const second = await openTab(browser);
      await stepAndSave(first);
      await stepAndSave(second);
      expect(await first.textContent('#saved')).toMatch(/^Saved on this machine at step 1 /);
      expect(await second.textContent('#saved')).toMatch(/^Saved on this machine at step 1 /);

      // After a reload the first tab lists both runs: its own, and the second tab's, still open there.
      await first.reload();
      await first.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      await listedCount(first, 2);
      const runs = await listed(first);
      console.log(`listed: ${JSON.stringify(runs)}`);
      expect(runs.every(({ text }) => text.startsWith('tiny, 1 step, saved '))).toBe(true);
      expect(runs.filter(({ text }) => text.endsWith('(open in another tab)')).length).toBe(1);
      expect(runs.filter(({ resumable }) => resumable).length).toBe(1);

      // Its own run resumes; the other tab's stays the other tab's.
      const own = runs.find(({ resumable }) => resumable);
      await first.click(`#saved-list li[data-run="${own.id}"] .resume-run`);
      await first.waitForFunction(() => document.querySelector('#model').textContent.startsWith('Saved run resumed at step 1'), null, {
        timeout: 240_000,
      });
      await stepAndSave(first, 2);
      await stepAndSave(second, 2);

      // Both saved at step 2, each under its own id.
      await second.close();
      await first.reload();
      await listedCount(first, 2);
      const after = await listed(first);
      expect(after.map(({ text }) => text.split(', saved')[0])).toEqual(['tiny, 2 steps', 'tiny, 2 steps']);
      expect(new Set(after.map(({ id }) => id))).toEqual(new Set(runs.map(({ id }) => id)));
      expect(after.every(({ resumable }) => resumable)).toBe(true);
      expect(browser.consoleErrors).toEqual([]);
    });
  }, 900_000);

  it('keeps the run it offered after a reload when a fresh run is trained instead', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await savedThenReloaded(browser);
      const [offered] = await listed(tab);

      // Train the fresh run from the link instead: its saves go under its own id.
      await tab.click('#train');
      await tab.waitForFunction(() => Number(document.querySelector('#run-state').dataset.steps) >= 2, null, { timeout: 240_000 });
      await tab.click('#train'); // pause: saves the fresh run
      await tab.waitForFunction(() => Number(document.querySelector('#saved').dataset.steps) >= 2, null, { timeout: 240_000 });
      expect(await listed(tab)).toEqual([offered]);

      await tab.reload();
      await listedCount(tab, 2);
      const runs = await listed(tab);
      expect(runs.map(({ id }) => id)).toContain(offered.id);
      expect(runs.find(({ id }) => id === offered.id).text).toMatch(/^tiny, 1 step, saved /);
      expect(browser.consoleErrors).toEqual([]);
    });
  }, 900_000);

  it('says so when the run to resume is gone, instead of waiting forever', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await savedThenReloaded(browser);
      const deleted = await tab.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const request = indexedDB.deleteDatabase('aha');
            request.onsuccess = () => resolve('deleted');
            request.onerror = () => reject(request.error);
            request.onblocked = () => resolve('blocked');
          }),
      );
      expect(deleted).toBe('deleted');
      await tab.click('#saved-list .resume-run');
      await tab.waitForFunction(() => document.querySelector('#run-error').textContent.startsWith('Could not resume'), null, {
        timeout: 60_000,
      });
      expect(await tab.textContent('#run-error')).toBe(
        'Could not resume: the saved run is gone: deleted in another tab, or the browser cleared its storage',
      );
      expect(await tab.textContent('#model')).toMatch(/^Base model loaded/);
      // The run on show still trains.
      await stepAndSave(tab);
      expect(browser.consoleErrors).toEqual([]);
    });
  }, 600_000);

  it('recovers from a crash in the wasm: Reset, or Resume from the save, in a fresh Worker', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await openTab(browser);
      await tab.click('#bench summary');

      // A crash before any save: the page says so, and Reset starts a Worker that trains.
      await tab.click('#trap');
      await tab.locator('#run-error:not([hidden])').waitFor({ timeout: 60_000 });
      expect(await tab.textContent('#run-error')).toMatch(/^The wasm module crashed \(RuntimeError: unreachable.*\) before this run was saved: reset to start again\.$/);
      expect(await tab.isDisabled('#step')).toBe(true);
      await tab.click('#reset');
      await tab.locator('#backend[data-state="cpu"]').waitFor({ timeout: 120_000 });
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      await stepAndSave(tab);
      expect(await tab.isHidden('#run-error')).toBe(true);

      // A crash after a save: Resume continues the run from it.
      await tab.click('#trap');
      await tab.locator('#resume-offer:not([hidden])').waitFor({ timeout: 60_000 });
      expect(await tab.textContent('#resume-text')).toMatch(/^The wasm module crashed \(RuntimeError: unreachable.*\)\. Resume from the save at step 1\?/);
      await tab.click('#resume');
      await tab.waitForFunction(() => document.querySelector('#model').textContent.startsWith('Saved run resumed at step 1'), null, {
        timeout: 240_000,
      });
      await stepAndSave(tab, 2);
      // The console holds the two panics asked for, and nothing else.
      const unexpected = browser.consoleErrors.filter((text) => !/Crash the wasm now|RuntimeError: unreachable|panicked/.test(text));
      expect(unexpected).toEqual([]);
    });
  }, 600_000);
});
