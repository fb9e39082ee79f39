// The page in Simplified Chinese (`#lang=zh`): after a step, an answer, the lessons, the expert view
// and the bench panel, no visible text node holds English the catalogue does not keep; switching
// the language rewrites the page in place and leaves the run as it was.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strayLatin } from '../src/i18n/latin.js';
import { inBrowser } from './harness.js';
import { servedPage } from './served-page.js';

const pageUrl = servedPage();

/**
 * Every visible text node of the page, trimmed, except what is not the page's words: the model's
 * answers and prompts (`code`, `pre`, the teacher's answers), and the language menu, which names
 * each language in itself.
 */
const visibleTexts = (tab) =>
  tab.evaluate(() => {
    const skip = 'code, pre, script, style, #distil-answers, #lang';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const parent = node.parentElement;
      const text = node.textContent.trim();
      if (text === '' || parent.closest(skip) || !parent.checkVisibility({ checkVisibilityCSS: true })) continue;
      texts.push(text);
    }
    return texts;
  });

const steps = (tab) => tab.locator('#charts').getAttribute('data-steps').then(Number);

describe('languages', () => {
  it('shows no English UI text with #lang=zh, and switches language without touching the run', async () => {
    await inBrowser({ webgpu: false }, async (browser) => {
      const tab = await browser.context.newPage();
      await tab.goto(pageUrl('#preset=tiny&backend=cpu&lang=zh'));
      await tab.locator('#model[data-state="ready"]').waitFor({ timeout: 240_000 });
      expect(await tab.evaluate(() => [document.documentElement.lang, document.title])).toEqual(['zh-CN', 'Aha — 在浏览器里重现 R1-Zero']);

      // Everything a first session shows: a step, its group, an answer, the experts of one answer,
      // the lessons, what to watch for, and the bench panel with the download measured.
      await tab.click('#step');
      await tab.waitForFunction(() => Number(document.querySelector('#charts').dataset.steps) >= 1, null, { timeout: 240_000 });
      await tab.fill('#prompt', '347*5');
      await tab.click('#ask-button');
      await tab.locator('#verdict[data-correct]').waitFor({ timeout: 120_000 });
      await tab.click('#group li.answer .experts-button');
      await tab.locator('#experts-view .route-row').first().waitFor({ timeout: 60_000 });
      await tab.click('#lessons-toggle');
      await tab.click('details.watch summary');
      await tab.click('#bench summary');
      await tab.waitForFunction(() => /wasm/.test(document.querySelector('#bench-table').textContent), null, { timeout: 60_000 });

      const texts = await visibleTexts(tab);
      expect(texts.length).toBeGreaterThan(100);
      const english = texts.filter((text) => strayLatin(text).length > 0);
      expect(english, 'visible text with English words').toEqual([]);
      expect(await tab.textContent('#run-state')).toBe('迷你运行 · 1 步 · 已暂停');
      expect(await tab.textContent('#ask-task')).toBe('这次运行训练它做3 位数乘 1 位数的乘法；其他题目得到的是它从未学过的回答。');
      expect(await tab.textContent('#verdict')).toMatch(/^(正确（1735）|错误：答案是 1735)/);
      mkdirSync('test-results', { recursive: true });
      await tab.screenshot({ path: 'test-results/language-zh.png', fullPage: true });

      // English in place: the address says so, the run is the same run at the same step.
      await tab.selectOption('#lang', 'en');
      expect(await tab.evaluate(() => location.hash)).toBe('#preset=tiny&backend=cpu&lang=en');
      expect(await tab.textContent('#run-state')).toBe('tiny run · 1 step · paused');
      expect(await tab.textContent('#model')).toMatch(/^Base model loaded: [\d,]+ parameters$/);
      expect(await tab.textContent('#chart-reward figcaption')).toBe('Reward: share of right final answers in the rollout');
      expect(await tab.textContent('#lesson-title')).toBe('The task and the only reward');
      expect(await tab.textContent('#group-heading')).toMatch(/^Step 0: 4 answers to \d{3}\*\d= \(right answer \d+\)$/);
      expect(await tab.textContent('#verdict')).toMatch(/^(right \(1735\)|wrong: the answer is 1735)/);
      expect(await steps(tab)).toBe(1);

      // Another step in English, then back to Chinese through the address, as a shared link would.
      await tab.click('#step');
      await tab.waitForFunction(() => Number(document.querySelector('#charts').dataset.steps) >= 2, null, { timeout: 240_000 });
      await tab.evaluate(() => (location.hash = '#preset=tiny&backend=cpu&lang=zh'));
      await tab.waitForFunction(() => document.documentElement.lang === 'zh-CN', null, { timeout: 10_000 });
      expect(await tab.textContent('#run-state')).toBe('迷你运行 · 2 步 · 已暂停');
      expect(await tab.inputValue('#lang')).toBe('zh');
      expect(await steps(tab)).toBe(2);
      expect((await visibleTexts(tab)).filter((text) => strayLatin(text).length > 0)).toEqual([]);
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });
  });
});
