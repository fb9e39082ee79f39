// The page loads the shipped base model in its Worker and answers a typed problem token by token;
// bad input gets an inline message and leaves the model working.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

async function ask(tab, text) {
  await tab.fill('#prompt', text);
  await tab.click('#ask-button');
}

describe('prompt box', () => {
  it('answers with the shipped model, and refuses bad input clearly', async () => {
    await inBrowser({ webgpu: true }, async (browser) => {
      const tab = await browser.context.newPage();
      await tab.goto(pageUrl());
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      expect(await tab.textContent('#model')).toMatch(/^Base model loaded: [\d,]+ parameters$/);

      await ask(tab, 'hello');
      await tab.locator('#prompt-error:not([hidden])').waitFor({ timeout: 60_000 });
      expect(await tab.textContent('#prompt-error')).not.toBe('');
      expect(await tab.textContent('#answer')).toBe('');

      await ask(tab, '347*5');
      await tab.locator('#verdict[data-correct]').waitFor({ timeout: 240_000 });
      expect(await tab.isHidden('#prompt-error')).toBe(true);
      // Greedy: `g` and a 4-digit guess, maybe a check, then `a`, the final answer and `.`.
      expect(await tab.textContent('#answer')).toMatch(/^347\*5=g\d{4} .*a\d{4}\.$/);
      expect(await tab.textContent('#verdict')).toMatch(/^(right \(1735\)|wrong: the answer is 1735)/);
      expect(await tab.textContent('#ask-task')).toBe(
        'This run trains it on 3-digit × 1-digit multiplication; other problems get answers it never learned.',
      );

      // A problem the model never learned is answered, and marked as such.
      await ask(tab, '1+1');
      await tab.waitForFunction(() => document.querySelector('#answer').textContent.startsWith('1+1='), null, { timeout: 60_000 });
      await tab.waitForFunction(() => /outside what this run trains on/.test(document.querySelector('#verdict').textContent), null, { timeout: 240_000 });
      expect(await tab.textContent('#verdict')).toMatch(
        /^(right|wrong).* · outside what this run trains on \(3-digit × 1-digit multiplication\): the model never learned it$/,
      );
      mkdirSync('test-results', { recursive: true });
      await tab.screenshot({ path: 'test-results/ask.png', fullPage: true });
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  });
});
